import { runCli } from '../../../test/support/cli';
import { stormTable } from './commands/lookup';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env });

describe('dumpstream storms and report', () => {
  it('draws storms as a table: signature, state, dumps, hosts, since, trend', () => {
    const now = Date.parse('2026-12-03T08:00:00Z');
    const table = stormTable(
      [
        { signature: 'v1:app.exe!app!Crash', state: 'storming', dumps: 412, hosts: 31, since: now - 95 * 60_000, trend: 'rising' },
        { signature: 'v1:<unknown-root>', state: 'quiet', dumps: 3, hosts: 2, since: null, trend: null },
      ],
      true,
      now,
    );
    expect(table.split('\n')).toEqual([
      'SIGNATURE             STATE     DUMPS  HOSTS  SINCE                               TREND',
      'v1:app.exe!app!Crash  storming    412     31  2026-12-03 06:25Z (1 h 35 min ago)  rising',
      'v1:<unknown-root>     quiet         3      2  -                                   -',
      '',
    ]);
    expect(stormTable([], false)).toBe('no storm now (dumpstream storms --all lists every signature seen)\n');
  });

  it('explains its usage, and refuses a bad command line (bad input on purpose)', async () => {
    expect((await cli(['report', '--help'])).out).toMatch(/^usage: dumpstream report DUMPID \[--format text\|json\|html\]/);
    expect((await cli(['storms', '--help'])).out).toMatch(/^usage: dumpstream storms \[--all\]/);
    expect(await cli(['report', 'abc'])).toMatchObject({ code: 2, err: expect.stringMatching(/--url is required \(or DUMPSTREAM_URL\)/) });
    expect(await cli(['report', 'abc', '--format', 'pdf'], { DUMPSTREAM_URL: 'http://x' })).toMatchObject({ code: 2, err: expect.stringMatching(/--format must be text, json, html, not "pdf"/) });
    expect(await cli(['storms', '--format', 'html'], { DUMPSTREAM_URL: 'http://x' })).toMatchObject({ code: 2 });
    expect(await cli(['storms', '--url', 'ftp://x'])).toMatchObject({ code: 2, err: expect.stringMatching(/http:\/\/ or https:\/\//) });
  });
});
