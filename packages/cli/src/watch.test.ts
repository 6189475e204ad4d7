import { runCli } from '../../../test/support/cli';
import { alertLine } from './commands/watch';

const cli = (args: string[]) => runCli(args, { env: {} });

describe('dumpstream watch: the command line (bad input on purpose)', () => {
  it.each([
    [['reports', '--format', 'xml'], '--format must be text or json, not "xml"'],
    [['reports', '--timeout', '0'], '--timeout needs a number of seconds > 0'],
    [['reports', '--timeout'], '--timeout needs a number of seconds > 0'],
    [['alerts', '--count', 'many'], '--count needs a whole number ≥ 1'],
  ])('%j is a usage error with one line saying why', async (args, why) => {
    const r = await cli(['watch', ...args]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toContain(why);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('says in --help how to stop waiting and how to choose the format', async () => {
    const r = await cli(['watch', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--timeout SECONDS');
    expect(r.out).toContain('--format text');
  });
});

describe('an alert as text', () => {
  it('is one line: when, severity, host, source, summary, counts, root images, dumpId', () => {
    const line = alertLine({
      dumpId: 'ab'.repeat(32),
      source: 'MEMORY.txt',
      host: 'srv-01',
      pattern: 'error-reporting-fault',
      severity: 'high',
      summary: 'WerFault.exe reporting on WerFault.exe: 3 chains, deepest 3',
      werFaultProcesses: 9,
      deepestChain: 3,
      chainCount: 3,
      rootImages: [null, 'svchost.exe', 'svchost.exe'],
      roots: [],
      signature: null,
      createdAt: Date.UTC(2026, 11, 2, 15, 0, 0),
    });
    expect(line).toBe(`2026-12-02T15:00:00.000Z HIGH srv-01 MEMORY.txt: WerFault.exe reporting on WerFault.exe: 3 chains, deepest 3 (9 WerFault.exe, 3 chains, deepest 3; root unknown, svchost.exe) dumpId ${'ab'.repeat(32)}`);
  });
});
