import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, parseArgs, parseChains, parseSize } from './cli';
import { isGeneratorError } from './errors';
import { writeTranscript } from './write';

describe('parseSize', () => {
  it.each([
    ['200MB', 200_000_000],
    ['64KB', 64_000],
    ['64KiB', 65_536],
    ['1.5GiB', 1_610_612_736],
    ['10M', 10 * 1024 * 1024],
    ['4096', 4096],
    ['12B', 12],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('rejects a non-size with INVALID_ARGUMENT (bad input on purpose)', () => {
    let caught: unknown;
    try {
      parseSize('lots');
    } catch (e) {
      caught = e;
    }
    expect(isGeneratorError(caught) && caught.code).toBe('INVALID_ARGUMENT');
  });
});

describe('parseChains', () => {
  it('reads NxD, D and NxD:B', () => {
    const base = { evidence: 'mixed' as const, rootPresent: false, rootStack: 'absent' as const };
    expect(parseChains('3x4', base)).toEqual([1, 2, 3].map(() => ({ ...base, depth: 4 })));
    expect(parseChains('2x5:3,1', base)).toEqual([{ ...base, depth: 5, branching: 3 }, { ...base, depth: 5, branching: 3 }, { ...base, depth: 1 }]);
    expect(() => parseChains('3y4', base)).toThrow(/NxD/);
  });
});

describe('parseArgs', () => {
  it('maps flags to a spec', () => {
    const req = parseArgs(['--seed', '1', '--processes', '5000', '--chains', '3x4', '--size', '200MB', '--out', 'file.txt', '--wow64', '--os', 'win10', '--threads', '2-5', '--evidence', 'command-line,waiting', '--root-absent']);
    expect(req.out).toBe('file.txt');
    expect(req.spec).toMatchObject({ seed: 1, processes: 5000, padToBytes: 200_000_000, wow64: true, os: 'win10', threadsPerProcess: [2, 5] });
    expect(req.spec.chains).toHaveLength(3);
    expect(req.spec.chains?.[0]).toEqual({ depth: 4, evidence: ['command-line', 'waiting'], rootPresent: false, rootStack: 'present' });
  });

  it('rejects an unknown flag (bad input on purpose)', () => {
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--seed'])).toThrow(/needs a value/);
  });
});

describe('writing files', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dumpstream-generator-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writeTranscript streams the text and writes the answer beside it', async () => {
    const path = join(dir, 'one.txt');
    const w = await writeTranscript({ seed: 3, processes: 30, chains: [{ depth: 3 }], padToBytes: 300_000 }, path, { chunkSize: 4096 });
    expect((await stat(path)).size).toBe(w.bytes);
    expect(w.bytes).toBeGreaterThanOrEqual(300_000);
    const answer = JSON.parse(await readFile(`${path}.answer.json`, 'utf8')) as Record<string, unknown>;
    expect(answer).toMatchObject({ processes: w.answer.processes, werFaultProcesses: 3, findings: true, bytes: w.bytes });
  });

  it('the CLI writes the transcript, the answer, and a fleet', async () => {
    const out = join(dir, 'cli.txt');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['--seed', '1', '--processes', '50', '--chains', '3x4', '--size', '200KB', '--out', out])).toBe(0);
      expect((await stat(out)).size).toBeGreaterThanOrEqual(200_000);
      const answer = JSON.parse(await readFile(`${out}.answer.json`, 'utf8')) as { chains: unknown[]; werFaultProcesses: number };
      expect(answer.chains).toHaveLength(3);
      expect(answer.werFaultProcesses).toBe(12);
      expect(await main(['--fleet', '3', '--processes', '10', '--out', join(dir, 'fleet')])).toBe(0);
      expect((await readdir(join(dir, 'fleet'))).filter((f) => f.endsWith('.txt'))).toHaveLength(3);
      expect(await main(['--chains', '0x1', '--out', join(dir, 'bad.txt'), '--chains', 'zz'])).toBe(2);
      expect(await main(['--seed', '1'])).toBe(2);
    } finally {
      stderr.mockRestore();
    }
  });
});
