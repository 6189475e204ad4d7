/**
 * Property tests: whatever is done to a real transcript — lines dropped, duplicated, shuffled,
 * bytes flipped, cut anywhere, junk inserted — the pipeline never throws, accounts for every line,
 * and its cost grows linearly with the input.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { detectErrorReportingFault } from '@dumpstream/detect';
import { DumpGraph } from '@dumpstream/graph';
import { buildReport } from '@dumpstream/report';
import { Segmenter } from '@dumpstream/transcript';

const FIXTURES = ['corpus', 'formats'].flatMap((d) => {
  const dir = path.join(__dirname, '..', 'fixtures', d);
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.txt'))
      .map((f) => readFileSync(path.join(dir, f)));
  } catch {
    return [];
  }
});
FIXTURES.push(readFileSync(path.join(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt')));

/** The embedded pipeline over bytes given in chunks; returns the report. */
function analyze(chunks: Buffer[], maxLines?: number) {
  const graph = new DumpGraph();
  const seg = new Segmenter((_s, f) => graph.merge(f), maxLines ? { maxLines, hardMaxLines: maxLines * 3 } : {});
  for (const c of chunks) seg.push(c);
  const summary = seg.end();
  const dump = graph.resolve();
  const finding = detectErrorReportingFault(dump);
  return { summary, report: buildReport({ source: 'p', dumpId: 'x', bytes: summary.bytes, dump, findings: finding ? [finding] : [] }) };
}

const fixture = fc.integer({ min: 0, max: FIXTURES.length - 1 }).map((i) => FIXTURES[i]);

const lineMutation = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('junk' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 200 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), keep: fc.nat() }),
);

interface Mutation {
  kind: 'drop' | 'dup' | 'swap' | 'junk' | 'cut';
  at: number;
  with?: number;
  text?: string;
  keep?: number;
}

function mutateLines(text: string, muts: Mutation[]): string {
  const lines = text.split('\n');
  for (const m of muts) {
    if (lines.length === 0) break;
    const i = m.at % lines.length;
    switch (m.kind) {
      case 'drop':
        lines.splice(i, 1);
        break;
      case 'dup':
        lines.splice(i, 0, lines[i]);
        break;
      case 'swap': {
        const j = (m.with ?? 0) % lines.length;
        [lines[i], lines[j]] = [lines[j], lines[i]];
        break;
      }
      case 'junk':
        lines.splice(i, 0, m.text ?? '');
        break;
      case 'cut':
        lines[i] = lines[i].slice(0, (m.keep ?? 0) % (lines[i].length + 1));
        break;
    }
  }
  return lines.join('\n');
}

describe('the pipeline on damaged transcripts', () => {
  it('never throws on mutated lines, and counts every line', () => {
    fc.assert(
      fc.property(fixture, fc.array(lineMutation, { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (bytes, muts, maxLines) => {
        const text = mutateLines(bytes.toString('utf8'), muts);
        const { summary, report } = analyze([Buffer.from(text)], maxLines);
        expect(report.stats.lines).toBe(summary.lines);
        expect(summary.lines).toBe(text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
        expect(report.stats.unparsedLines).toBeLessThanOrEqual(report.stats.lines);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on flipped bytes and arbitrary chunking, including cuts inside UTF-8 sequences', () => {
    fc.assert(
      fc.property(fixture, fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 50 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, flips, cuts) => {
        const b = Buffer.from(bytes);
        for (const f of flips) b[f.at % b.length] = f.byte;
        const points = [...new Set(cuts.map((c) => c % b.length))].sort((x, y) => x - y);
        const chunks: Buffer[] = [];
        let prev = 0;
        for (const p of points) {
          chunks.push(b.subarray(prev, p));
          prev = p;
        }
        chunks.push(b.subarray(prev));
        analyze(chunks, 5);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on transcripts truncated anywhere, and keeps every fact before the cut', () => {
    fc.assert(
      fc.property(fixture, fc.double({ min: 0, max: 1, noNaN: true }), (bytes, frac) => {
        const cut = Math.floor(bytes.length * frac);
        const { report } = analyze([bytes.subarray(0, cut)]);
        const whole = analyze([bytes]).report;
        const lastLine = bytes.subarray(0, cut).toString('utf8').split('\n').length - 1;
        expect(report.stats.lines).toBeLessThanOrEqual(lastLine + 1);
        // Facts on the whole lines before the cut are found as in the whole transcript. (A line cut
        // in two reads as another line: `Cid: 2` of `Cid: 2184`; nothing tells it from a
        // transcript whose last line has no newline.)
        const { report: lines } = analyze([bytes.subarray(0, bytes.lastIndexOf(10, cut - 1) + 1)]);
        for (const p of whole.processes.filter((x) => x.pid !== null && x.address !== null)) {
          const before = lines.processes.find((x) => x.address === p.address);
          if (before && before.pid !== null) expect(before.pid).toBe(p.pid);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives the same graph when the lines of a process list are shuffled', () => {
    const list = FIXTURES.find((b) => b.toString().includes('Cid: 0004'))!.toString();
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        // Shuffle whole PROCESS blocks, not lines: the order of blocks carries no meaning.
        const blocks = list.split(/\n(?=PROCESS )/);
        const rng = fc.sample(fc.shuffledSubarray(blocks, { minLength: blocks.length, maxLength: blocks.length }), { seed, numRuns: 1 })[0];
        const a = analyze([Buffer.from(blocks.join('\n'))]).report.processes.map((p) => `${p.pid}:${p.parentPid}:${p.image}`).sort();
        const b = analyze([Buffer.from(rng.join('\n'))]).report.processes.map((p) => `${p.pid}:${p.parentPid}:${p.image}`).sort();
        expect(b).toEqual(a);
      }),
      { numRuns: 30 },
    );
  });
});

describe('cost', () => {
  /**
   * Not a timing assertion on speed: a scaling check. Eight times the input must cost far less
   * than the 64 times a quadratic step would; linear gives about 8. CPU time, best of three.
   */
  it('grows linearly with the input, also on adversarial text', () => {
    const adversarial = [
      '0:000>'.repeat(2000) + '0: kd> k',
      'PROCESS ' + 'f'.repeat(60_000),
      '    SessionId: ' + '9'.repeat(5000) + '  Cid: ' + 'f'.repeat(5000),
      '(' .repeat(30_000),
      '<span>'.repeat(5000) + '&amp;'.repeat(5000),
      '00000000 00000000 ' + 'a!b+0x1 '.repeat(5000),
      'THREAD ' + 'Cid 1.1 '.repeat(5000),
      "CommandLine:  '" + 'x'.repeat(50_000),
      'ChildEBP RetAddr',
      ...Array.from({ length: 200 }, (_, i) => `${(i * 16).toString(16).padStart(8, '0')} 77000000 mod!fn+0x${i.toString(16)}`),
    ].join('\n');
    const unit = Buffer.from(FIXTURES.map((b) => b.toString()).join('\n') + '\n' + adversarial + '\n');
    const cost = (copies: number): number => {
      const input = Buffer.concat(Array.from({ length: copies }, () => unit));
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const t0 = process.cpuUsage();
        analyze([input]);
        const t = process.cpuUsage(t0);
        best = Math.min(best, t.user + t.system);
      }
      return best;
    };
    cost(1); // warm up the JIT
    const ratio = cost(8) / cost(1);
    expect(ratio).toBeLessThan(24);
  });
});
