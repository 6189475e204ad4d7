/**
 * Fuzzing the parser the way the distributed pipeline uses it: any bytes, in any chunks, with any
 * segment size, give the same report embedded (facts straight from the segmenter) and distributed
 * (each segment encoded for Kafka, decoded, parsed on its own from the context it carries, its
 * facts encoded and decoded again, then merged, the report encoded and decoded as on `reports`). Inputs are real transcripts mutated, line soup
 * made of the grammar's shapes with hostile values, and raw bytes (UTF-8, UTF-16).
 *
 * Cases fuzzing found are kept in test/fixtures/fuzz (one file each, named for what broke) and
 * replayed first, every run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { detectErrorReportingFault } from '@dumpstream/detect';
import { DumpGraph } from '@dumpstream/graph';
import { buildReport } from '@dumpstream/report';
import { decodeFacts, decodeReport, decodeSegment, encodeFacts, encodeReport, encodeSegment } from '@dumpstream/schemas';
import { parseSegment, Segmenter } from '@dumpstream/transcript';

const FUZZ = path.join(__dirname, '..', 'fixtures', 'fuzz');
const FOUND = readdirSync(FUZZ)
  .filter((f) => f.endsWith('.txt') || f.endsWith('.bin'))
  .map((f) => ({ name: f, bytes: readFileSync(path.join(FUZZ, f)) }));
const REAL = [readFileSync(path.join(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt')), ...['corpus', 'formats'].flatMap((d) => {
  const dir = path.join(__dirname, '..', 'fixtures', d);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => readFileSync(path.join(dir, f)));
})];

function report(graph: DumpGraph, bytes: number) {
  const dump = graph.resolve();
  const finding = detectErrorReportingFault(dump);
  return buildReport({ source: 'fuzz', dumpId: 'f'.repeat(64), bytes, dump, findings: finding ? [finding] : [] });
}

/** Both ways over the same chunks; returns the two reports. */
function bothWays(chunks: Buffer[], maxLines: number) {
  const embedded = new DumpGraph();
  const distributed = new DumpGraph();
  const seg = new Segmenter(
    (segment, facts) => {
      embedded.merge(facts);
      const wire = decodeSegment(encodeSegment({ ...segment, uploadId: '0123456789abcdef', source: 'fuzz', host: null, receivedAt: 0 }));
      const again = parseSegment(wire);
      distributed.merge(decodeFacts(encodeFacts({ ...again, uploadId: wire.uploadId })));
    },
    { keepLines: true, maxLines, hardMaxLines: maxLines * 2 },
  );
  for (const c of chunks) seg.push(c);
  const summary = seg.end();
  // The distributed report also goes through the reports topic's encoding.
  return { embedded: report(embedded, summary.bytes), distributed: decodeReport(encodeReport(report(distributed, summary.bytes))) };
}

/** Cuts bytes into chunks at the given points. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

// Line shapes from packages/transcript/src/grammar.ts, with hostile values.
const hexish = fc.oneof(fc.stringMatching(/^[0-9a-f]{1,16}$/), fc.stringMatching(/^[0-9a-f]{17,300}$/), fc.constantFrom('', '0', 'ffffffff`ffffffff', '-1', 'zz'));
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('WerFault.exe', 'werfault.exe', 'app.exe', '<Data Not Accessible>', '&lt;b&gt;', '‘x′', 'lone\ud800surrogate.exe', '\udc00.exe', 'a\u0000b', '\u202eexe.tab'),
);
const decimal = fc.oneof(fc.nat().map(String), fc.stringMatching(/^[0-9]{10,400}$/), fc.constantFrom('0n12', '-5', '1e9'));
const lineShape = fc.oneof(
  fc.tuple(hexish, hexish, hexish).map(([a, c, p]) => `PROCESS ${a}\n    SessionId: 1  Cid: ${c}    Peb: 7efdf000  ParentCid: ${p}`),
  fc.tuple(hexish, hexish).map(([a, c]) => `PROCESS ${a}  SessionId: none  Cid: ${c}    Peb: 0  ParentCid: 0000`),
  text.map((i) => `    Image: ${i}`),
  fc.tuple(hexish, hexish, hexish).map(([a, c, t]) => `        THREAD ${a}  Cid ${c}.${t}  Teb: 0000000000000000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable`),
  hexish.map((a) => `            ${a}  ProcessObject`),
  fc.tuple(decimal, decimal).map(([p, s]) => `    CommandLine:  'C:\\Windows\\System32\\WerFault.exe -u -p ${p} -s ${s}'`),
  fc.tuple(hexish, hexish, text).map(([sp, ra, f]) => `${sp} ${ra} ${f}!Func+0x${sp.slice(0, 4)}`),
  fc.tuple(fc.nat({ max: 99 }), hexish, text).map(([n, sp, f]) => `${n.toString(16).padStart(2, '0')} ${sp} ${sp} ${f}`),
  hexish.map((a) => `0: kd> .process /r /p ${a}`),
  hexish.map((a) => `0: kd> .thread /w ${a}`),
  fc.constantFrom('0: kd> !process 0 ff', '0: kd:x86> k', '0:000> ~*k', '0: kd> .effmach x86', '0: kd> !peb', 'PEB at 000000007efdf000', '**** NT ACTIVE PROCESS DUMP ****', 'ChildEBP RetAddr', ' # Child-SP          RetAddr               Call Site', ''),
  decimal.map((d) => `0: kd> !process 0n${d}`),
  text,
);
const lines = fc.array(lineShape, { minLength: 1, maxLength: 80 }).map((l) => `${l.join('\n')}\n`);
const soup = lines.map((t) => Buffer.from(t));
const mutatedReal = fc.tuple(fc.integer({ min: 0, max: REAL.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 })), { maxLength: 8 })).map(([i, edits]) => {
  const b = Buffer.from(REAL[i]);
  for (const [at, bytes] of edits) b.set(bytes.subarray(0, Math.max(0, b.length - (at % b.length))), at % b.length);
  return b;
});
// UTF-16LE (WinDbg's .logopen /u): code units as they are, lone surrogates included.
const utf16 = lines.map((t) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')]));
const rawBytes = fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a));
const input = fc.oneof({ arbitrary: soup, weight: 4 }, { arbitrary: mutatedReal, weight: 3 }, { arbitrary: utf16, weight: 2 }, { arbitrary: rawBytes, weight: 1 });
const cuts = fc.array(fc.nat(), { maxLength: 6 });
const maxLines = fc.integer({ min: 1, max: 60 });

describe('the parser, fuzzed', () => {
  it('keeps the cases it once found', () => {
    expect(FOUND.length).toBeGreaterThan(0);
    for (const f of FOUND) {
      for (const m of [1, 3, 7, 400]) {
        const { embedded, distributed } = bothWays([f.bytes], m);
        expect({ case: f.name, maxLines: m, report: distributed }).toEqual({ case: f.name, maxLines: m, report: embedded });
      }
    }
  });

  it('gives the same report embedded and distributed, whatever the bytes, chunks and segment size', () => {
    fc.assert(
      fc.property(input, cuts, maxLines, (bytes, c, m) => {
        const { embedded, distributed } = bothWays(chunked(bytes, c), m);
        expect(distributed).toEqual(embedded);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300) },
    );
  });
});
