/**
 * test/support/setup.sh, the `pretest` of `npm test`, on a machine that lacks everything (a PATH
 * holding only what the script itself runs): it installs nothing when told to check, names each
 * missing tool with the suites that need it and its Debian package, and lets the tests run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SETUP = path.resolve(__dirname, '..', 'support', 'setup.sh');

describe('npm test on a fresh machine (test/support/setup.sh)', () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(path.join(os.tmpdir(), 'ds-bare-'));
    for (const tool of ['bash', 'id', 'sed', 'head']) symlinkSync(spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, tool));
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('says what is missing, which suites need it and how to install it, and lets the tests go on', () => {
    const r = spawnSync(path.join(bin, 'bash'), [SETUP], { env: { PATH: bin, DUMPSTREAM_TEST_SETUP: 'check', REDIS_URL: 'redis://127.0.0.1:6379' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('test setup: missing on this machine — these suites will fail until it is installed:');
    for (const [tool, pkg, suite] of [
      ['chromium', 'chromium', 'test/render'],
      ['prometheus', 'prometheus', 'test/deploy/prometheus-config'],
      ['docker-compose', 'docker-compose', 'test/deploy/compose'],
      ['java', 'default-jre-headless', 'every integration and fault suite'],
      ['mvn', 'maven', 'the first run of the integration suites'],
    ]) {
      const at = lines.findIndex((l) => l.trimStart().startsWith(`${tool} `));
      expect(lines[at]).toContain(`needed by ${suite}`);
      expect(lines[at + 1].trim()).toBe(`Debian: apt-get install -y ${pkg}`);
    }
  });

  it('on a machine with only Docker and no apt-get (Docker Desktop on macOS): installs nothing, says so, asks only for what no container replaces', () => {
    const r = spawnSync(path.join(bin, 'bash'), [SETUP], { env: { PATH: bin, DUMPSTREAM_INFRA: 'docker' }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('test setup: no apt-get on this machine: installed nothing (skipped: docker-compose); install them with its own package manager');
    expect(lines[1]).toBe('test setup: missing on this machine — these suites will fail until it is installed:');
    expect(lines[2]).toMatch(/^ {2}docker-compose +needed by test\/deploy\/compose/);
    // Kafka, Redis, Prometheus, promtool and Chromium run from containers on this path
    for (const tool of ['chromium', 'prometheus', 'java', 'mvn', 'redis']) expect(lines.some((l) => l.trimStart().startsWith(`${tool} `))).toBe(false);
    expect(r.stderr).not.toContain('will be skipped');
  });

  it('does nothing at all when told to skip', () => {
    const r = spawnSync(path.join(bin, 'bash'), [SETUP], { env: { PATH: bin, DUMPSTREAM_TEST_SETUP: 'skip' }, encoding: 'utf8' });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
  });
});
