/**
 * SegmentCutter (ingest's cutter, which does not parse) against the parser: on every real
 * transcript, fixture and generated dump, cut at many sizes and with properties' mutations,
 *  - the context it gives each segment is the parser's context at that line (its session part at
 *    a cut before a line that opens something new, all of it at a cut in the middle of a block);
 *  - the segments parsed on their own (as the parse workers do) make the same report as `analyze`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { detectErrorReportingFault } from '@dumpstream/detect';
import { writeTranscript, generateFleet } from '@dumpstream/generator';
import { DumpGraph } from '@dumpstream/graph';
import { buildReport } from '@dumpstream/report';
import { parseSegment, Segmenter, SegmentCutter, TranscriptParser, initialContext, type Facts, type Segment, type SegmenterOptions, type DebuggerContext } from '@dumpstream/transcript';

const fixtureDir = path.join(__dirname, '..', 'fixtures');
const FILES: [string, Buffer][] = ['corpus', 'formats', 'fuzz'].flatMap((d) =>
  readdirSync(path.join(fixtureDir, d))
    .filter((f) => f.endsWith('.txt'))
    .map((f): [string, Buffer] => [`${d}/${f}`, readFileSync(path.join(fixtureDir, d, f))]),
);
FILES.push(['seed', readFileSync(path.join(fixtureDir, 'seed-error-reporting-fault.txt'))]);

function reportOf(facts: Iterable<Facts>, bytes: number) {
  const graph = new DumpGraph();
  for (const f of facts) graph.merge(f);
  const dump = graph.resolve();
  const finding = detectErrorReportingFault(dump);
  return buildReport({ source: 's', dumpId: 'd', bytes, dump, findings: finding ? [finding] : [] }, { frames: true });
}

function analyzed(bytes: Buffer) {
  const facts: Facts[] = [];
  const s = new Segmenter((_seg, f) => facts.push(f));
  s.push(bytes);
  s.end();
  return reportOf(facts, bytes.length);
}

function cut(bytes: Buffer, options: SegmenterOptions, chunk = 4096) {
  const segments: Segment[] = [];
  const c = new SegmentCutter((s) => segments.push(s), options);
  for (let i = 0; i < bytes.length; i += chunk) c.push(bytes.subarray(i, i + chunk));
  return { segments, summary: c.end() };
}

/** The parser's context before each line, numbered from 1. */
function contexts(lines: string[]): DebuggerContext[] {
  const p = new TranscriptParser(initialContext(), 0, 1);
  const out: DebuggerContext[] = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(JSON.parse(JSON.stringify(p.ctx)) as DebuggerContext);
    p.line(lines[i], i + 1);
  }
  return out;
}

const SESSION = ['mode', 'machine', 'implicitProcess', 'implicitThread', 'command', 'target', 'userPid', 'userThreadIndex'] as const;

function checkContexts(bytes: Buffer, options: SegmenterOptions): number {
  const { segments } = cut(bytes, options);
  const all = segments.flatMap((s) => s.lines);
  const truth = contexts(all);
  for (const seg of segments.slice(1)) {
    const want = truth[seg.firstLine - 1];
    const got = seg.context;
    const opened = got.block === null && got.thread === null && got.stack === null && got.peb === null;
    if (opened) {
      for (const k of SESSION) expect({ line: seg.firstLine, [k]: got[k] }).toEqual({ line: seg.firstLine, [k]: want[k] });
    } else {
      // A cut in the middle of a block carries the whole context (except what finish() adds about an open stack).
      expect({ line: seg.firstLine, ...got, stack: got.stack && { ...got.stack, layout: null } }).toEqual({ line: seg.firstLine, ...want, stack: want.stack && { ...want.stack, layout: null } });
    }
  }
  return segments.length;
}

const SIZES: SegmenterOptions[] = [
  { maxLines: 1, hardMaxLines: 1 },
  { maxLines: 2, hardMaxLines: 5 },
  { maxLines: 7, hardMaxLines: 20 },
  { maxLines: 50, hardMaxLines: 200 },
  {},
];

describe('SegmentCutter', () => {
  test.each(FILES)('%s: every segment starts with the parser’s context, and the report is analyze’s', (_name, bytes) => {
    const want = analyzed(bytes);
    for (const options of SIZES) {
      checkContexts(bytes, options);
      const { segments, summary } = cut(bytes, options);
      expect(segments.reduce((n, s) => n + s.lines.length, 0)).toBe(summary.lines);
      expect(reportOf(segments.map((s) => parseSegment(s)), bytes.length)).toEqual(want);
    }
  });

  test('a generated fleet: reports equal, and segments cut before PROCESS headers and prompts without parsing', async () => {
    const dir = path.join(require('node:os').tmpdir(), `cutter-${process.pid}`);
    require('node:fs').mkdirSync(dir, { recursive: true });
    for (const d of generateFleet({ seed: 11, dumps: 4, processes: [40, 200], findingRate: 0.5 })) {
      const file = path.join(dir, d.name);
      await writeTranscript(d.spec, file, { answer: false });
      const bytes = readFileSync(file);
      const want = analyzed(bytes);
      const { segments } = cut(bytes, { maxLines: 300 });
      expect(segments.length).toBeGreaterThan(1);
      // Cut before a line that opens something new: nothing open in the context.
      for (const s of segments.slice(1)) expect([s.context.block, s.context.thread, s.context.stack]).toEqual([null, null, null]);
      expect(reportOf(segments.map((s) => parseSegment(s)), bytes.length)).toEqual(want);
      expect(checkContexts(bytes, { maxLines: 40, hardMaxLines: 120 })).toBeGreaterThan(1);
    }
    require('node:fs').rmSync(dir, { recursive: true, force: true });
  });

  test('text without debugger output is found out, as analyze finds it; a transcript is not', () => {
    expect(cut(Buffer.from('hello\nworld\n'.repeat(1000)), { maxLines: 10 }).summary.debuggerOutput).toBe(false);
    for (const [, bytes] of FILES.slice(0, 5)) expect(cut(bytes, {}).summary.debuggerOutput).toBe(true);
  });

  test('mutated real transcripts (lines dropped, duplicated, swapped, cut): contexts exact; reports equal where cuts open something new', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: FILES.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 3 })), { maxLength: 30 }),
        fc.integer({ min: 1, max: 30 }),
        (i, muts, maxLines) => {
          const lines = FILES[i][1].toString('latin1').split('\n');
          for (const [a, b, kind] of muts) {
            if (lines.length < 2) break;
            const x = a % lines.length;
            const y = b % lines.length;
            if (kind === 0) lines.splice(x, 1);
            else if (kind === 1) lines.splice(x, 0, lines[y]);
            else if (kind === 2) [lines[x], lines[y]] = [lines[y], lines[x]];
            else lines[x] = lines[x].slice(0, b % (lines[x].length + 1));
          }
          const bytes = Buffer.from(lines.join('\n'), 'latin1');
          checkContexts(bytes, { maxLines, hardMaxLines: maxLines * 3 });
          // Cut before lines that open something new only. (A cut in the middle of a damaged block
          // can tell a little differently from an uncut parse, as analyze's own hard cuts can.)
          expect(reportOf(cut(bytes, { maxLines, hardMaxLines: 1e9 }).segments.map((s) => parseSegment(s)), bytes.length)).toEqual(analyzed(bytes));
        },
      ),
      { numRuns: 150 },
    );
  });
});
