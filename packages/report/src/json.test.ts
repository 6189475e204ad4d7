import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { detectErrorReportingFault } from '@dumpstream/detect';
import { DumpGraph } from '@dumpstream/graph';
import { Segmenter } from '@dumpstream/transcript';
import { reportInputJsonBytes, reportJsonChunks } from './json';
import { buildReport, type Report, type ReportInput } from './report';

function inputOf(file: string): ReportInput {
  const graph = new DumpGraph();
  const s = new Segmenter((_seg, f) => graph.merge(f), { maxLines: 50 });
  const bytes = readFileSync(file);
  s.push(bytes);
  s.end();
  const dump = graph.resolve();
  const finding = detectErrorReportingFault(dump);
  return { source: path.basename(file), dumpId: 'd'.repeat(64), bytes: bytes.length, dump, findings: finding ? [finding] : [], host: null, incompleteReason: null };
}

function reportOf(file: string): Report {
  const graph = new DumpGraph();
  const s = new Segmenter((_seg, f) => graph.merge(f));
  const bytes = readFileSync(file);
  s.push(bytes);
  s.end();
  const dump = graph.resolve();
  const finding = detectErrorReportingFault(dump);
  return buildReport({ source: path.basename(file), dumpId: 'd'.repeat(64), bytes: bytes.length, dump, findings: finding ? [finding] : [], host: null, incompleteReason: null });
}

const fixtures = path.join(__dirname, '..', '..', '..', 'test', 'fixtures');

describe('reportJsonChunks', () => {
  it.each(['seed-error-reporting-fault.txt', path.join('corpus', '01-mslearn-process-nt4-tablesize.txt')])('writes exactly JSON.stringify of the %s report, in pieces', (name) => {
    const report = reportOf(path.join(fixtures, name));
    expect(report.processes.length).toBeGreaterThan(3);
    const pieces = [...reportJsonChunks(report, 200)];
    expect(pieces.length).toBeGreaterThan(report.processes.length / 4);
    expect(pieces.join('')).toBe(JSON.stringify(report));
    expect([...reportJsonChunks(report)].join('')).toBe(JSON.stringify(report));
  });

  it.each(['seed-error-reporting-fault.txt', path.join('formats', '05-xp-x86-kernel-dump-k-kv-fpo-trapframe-conv-dot-trap.txt')])(
    'writes the report of a dump, building frames as it goes, exactly as JSON.stringify of buildReport (%s)',
    (name) => {
      const input = inputOf(path.join(fixtures, name));
      const whole = JSON.stringify(buildReport(input));
      expect(whole).toContain('"callSite"');
      expect(Buffer.concat([...reportInputJsonBytes(input, 100)]).toString('utf8')).toBe(whole);
      // Without frames, the same report but for every thread's and stack's frames.
      const bare = buildReport(input, { frames: false });
      expect(bare.processes.every((p) => p.threads.every((t) => t.frames.length === 0))).toBe(true);
      expect(bare.findings).toEqual(buildReport(input).findings);
    },
  );

  it.each([1, 7, 100, 1 << 20])('writes the same JSON as UTF-8 bytes, in buffers of %i bytes or so', (chunkBytes) => {
    const input = inputOf(path.join(fixtures, 'seed-error-reporting-fault.txt'));
    // Characters of two, three and four bytes in UTF-8 (a surrogate pair), in an element and outside.
    const named = { ...input, source: 'crash €-𝄞-é.txt', dump: { ...input.dump, processes: input.dump.processes.map((p, i) => (i === 1 ? { ...p, image: 'wér€𝄞.exe' } : p)) } };
    const whole = JSON.stringify(buildReport(named));
    expect(whole).toContain('wér€𝄞.exe');
    const buffers = [...reportInputJsonBytes(named, chunkBytes)];
    expect(Buffer.concat(buffers).equals(Buffer.from(whole))).toBe(true);
    if (chunkBytes === 100) expect(buffers.length).toBeGreaterThan(10);
  });

  it('leaves out what JSON.stringify leaves out, and writes empty lists as []', () => {
    const report = { ...reportOf(path.join(fixtures, 'seed-error-reporting-fault.txt')), processes: [], extra: undefined } as unknown as Report;
    expect([...reportJsonChunks(report, 1)].join('')).toBe(JSON.stringify(report));
  });
});
