/**
 * Round trips over real transcripts: every segment, every segment's facts and every report that
 * the corpus and format fixtures produce comes back deep-equal after encode and decode, and what
 * the distributed pipeline builds from decoded messages equals what the embedded one builds.
 *
 * Sizes measured on the 32 fixture files (190,291 bytes of text; maxLines 50 gives 81 segments):
 * the segments encode to 197,464 bytes, 4% above the raw text and 5% above the cleaned lines they
 * carry (188,393): the context, the metadata and a length per line cost little (JSON: 229,028).
 * Their facts: 166,083 bytes (JSON: 286,580). Their reports: 160,502 bytes (JSON: 278,123).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeTranscript } from '@dumpstream/cli';
import { detectErrorReportingFault } from '@dumpstream/detect';
import { DumpGraph } from '@dumpstream/graph';
import { buildReport, reportFrameTexts, type Report } from '@dumpstream/report';
import { Segmenter, parseSegment, type Facts, type Segment, type SegmenterOptions } from '@dumpstream/transcript';
import { decodeFacts, decodeReport, decodeSegment, encodeFacts, encodeReport, encodeSegment, type FactsMessage, type SegmentMessage } from './index';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const FILES = [
  ...['corpus', 'formats'].flatMap((d) =>
    readdirSync(path.join(FIXTURES, d))
      .filter((f) => f.endsWith('.txt'))
      .map((f) => `${d}/${f}`),
  ),
  'seed-error-reporting-fault.txt',
];

/**
 * The fixtures' one finding has no root exception stack and no conflicting evidence; this storm
 * has both (0x300's parent says 0x999, its command line and 0x200's wait say 0x200).
 */
const STORM = [
  '0: kd> !process 0 ff',
  'PROCESS fffffa8000000100',
  '    SessionId: 1  Cid: 0100    Peb: 7efdf000  ParentCid: 0004',
  '    Image: app.exe',
  '        THREAD fffffa8000001110  Cid 0100.0110  Teb: 000000007efdb000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable',
  '            fffffa8000000200  ProcessObject',
  '        ChildEBP RetAddr',
  '        000bf574 76bd80a4 kernel32!WaitForMultipleObjects+0x18',
  '        000bf5e0 76bd7f63 kernel32!WerpReportFaultInternal+0x186',
  '        000bf690 776674df kernel32!UnhandledExceptionFilter+0x1af',
  '        000bf7b4 000bf7c0 ntdll!KiUserExceptionDispatcher+0xf',
  '',
  'PROCESS fffffa8000000200',
  '    SessionId: 1  Cid: 0200    Peb: 7efdf000  ParentCid: 0100',
  '    Image: WerFault.exe',
  '        THREAD fffffa8000002210  Cid 0200.0210  Teb: 000000007efdb000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable',
  '            fffffa8000000300  ProcessObject',
  '',
  'PROCESS fffffa8000000300',
  '    SessionId: 1  Cid: 0300    Peb: 7efdf000  ParentCid: 0999',
  '    Image: WerFault.exe',
  '',
  '0: kd> .process /r /p fffffa8000000300',
  'Implicit process is now fffffa80`00000300',
  '0: kd> !peb',
  "    CommandLine:  'C:\\Windows\\System32\\WerFault.exe -u -p 512 -s 88'",
  '',
].join('\n');

const CASES: [string, Buffer][] = [...FILES.map((f): [string, Buffer] => [f, readFileSync(path.join(FIXTURES, f))]), ['synthetic storm', Buffer.from(STORM)]];
/** Segments of about 50 lines, and tiny ones cut inside stacks and blocks (so contexts carry open ones). */
const CUTS = [
  { keepLines: true, maxLines: 50 },
  { keepLines: true, maxLines: 3, hardMaxLines: 8 },
];

/** The value as JSON would carry it: plain objects, no undefined keys. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function segmentsOf(bytes: Buffer, options: SegmenterOptions): [Segment, Facts][] {
  const out: [Segment, Facts][] = [];
  const s = new Segmenter((segment, facts) => out.push([segment, facts]), options);
  s.push(bytes);
  s.end();
  return out;
}

async function embedded(source: string, bytes: Buffer, options: SegmenterOptions): Promise<Report> {
  return analyzeTranscript(
    source,
    (async function* () {
      yield bytes;
    })(),
    { segmenter: options },
  );
}

it('reads every fixture', () => {
  expect(FILES.length).toBeGreaterThanOrEqual(32);
});

describe.each(CASES)('%s', (name, bytes) => {
  const dumpId = createHash('sha256').update(bytes).digest('hex');
  const uploadId = `0badc0de-0000-4000-8000-${dumpId.slice(0, 12)}`;

  it.each(CUTS)('gives back every segment, and each decoded segment parses to the same facts (%o)', (cut) => {
    const pieces = segmentsOf(bytes, cut);
    expect(pieces.length).toBeGreaterThan(0);
    for (const [i, [segment, facts]] of pieces.entries()) {
      const message: SegmentMessage = { uploadId, ...segment, source: name, host: i % 2 ? 'WS-0042' : null, receivedAt: 1_764_000_000_000 + i };
      const decoded = decodeSegment(encodeSegment(message));
      expect(decoded).toStrictEqual(plain(message));
      // As data: a PROCESS block's fact is a BlockFact (the parser's), equal to a plain object in all but its class.
      expect(plain(parseSegment(decoded))).toStrictEqual(plain(facts));
    }
  });

  it.each(CUTS)('gives back the facts of every segment; the report made from them equals the embedded one (%o)', async (cut) => {
    const graph = new DumpGraph();
    for (const [, facts] of segmentsOf(bytes, cut)) {
      const message: FactsMessage = { uploadId, ...facts };
      const decoded = decodeFacts(encodeFacts(message));
      expect(decoded).toStrictEqual(plain(message));
      const { uploadId: _, ...back } = decoded;
      graph.merge(back);
    }
    const dump = graph.resolve();
    const finding = detectErrorReportingFault(dump);
    const distributed = buildReport({ source: name, dumpId, bytes: bytes.length, dump, findings: finding ? [finding] : [] });
    expect(JSON.stringify(distributed)).toBe(JSON.stringify(await embedded(name, bytes, cut)));
  });

  it('gives back the report when its frames travel as text (as detect sends it)', async () => {
    const graph = new DumpGraph();
    for (const [, facts] of segmentsOf(bytes, CUTS[0])) graph.merge(decodeFacts(encodeFacts({ uploadId, ...facts })));
    const dump = graph.resolve();
    const finding = detectErrorReportingFault(dump);
    const input = { source: name, dumpId, bytes: bytes.length, dump, findings: finding ? [finding] : [] };
    const texts = reportFrameTexts(dump);
    expect(texts).not.toBeNull();
    const lean = encodeReport(buildReport(input, { frames: false }), texts!);
    const full = buildReport(input);
    expect(decodeReport(lean)).toStrictEqual(plain(decodeReport(encodeReport(full))));
    if (full.stats.frames > 20) expect(lean.length).toBeLessThan(0.8 * encodeReport(full).length);
  });

  it('gives back the report', async () => {
    const report = await embedded(name, bytes, CUTS[0]);
    const decoded = decodeReport(encodeReport(report));
    expect(decoded).toStrictEqual(plain(report));
    // Only `system` may change its key order (an Avro record has one).
    expect(JSON.stringify({ ...decoded, system: null })).toBe(JSON.stringify({ ...report, system: null }));
  });
});

it('encodes segments at little more than the size of the text they carry', () => {
  let text = 0;
  let encoded = 0;
  for (const name of FILES) {
    const bytes = readFileSync(path.join(FIXTURES, name));
    text += bytes.length;
    for (const [segment] of segmentsOf(bytes, CUTS[0])) {
      encoded += encodeSegment({ uploadId: '5f0c6a52-3d57-4a4e-9a51-9d2b1c1e0a11', ...segment, source: name, host: null, receivedAt: 0 }).length;
    }
  }
  expect(encoded / text).toBeLessThan(1.1);
});

it('covers the shapes that matter: absent and null session ids, open stacks at a cut, findings', async () => {
  const all = CASES.flatMap(([, bytes]) => CUTS.flatMap((cut) => segmentsOf(bytes, cut)));
  const facts = all.map(([, f]) => f);
  const processes = facts.flatMap((f) => f.processes);
  expect(processes.some((p) => p.sessionId === null)).toBe(true);
  expect(processes.some((p) => p.sessionId === undefined)).toBe(true);
  expect(processes.some((p) => typeof p.sessionId === 'number')).toBe(true);
  expect(processes.some((p) => p.details !== undefined)).toBe(true);
  expect(all.some(([s]) => s.context.stack !== null)).toBe(true);
  expect(all.some(([s]) => s.context.thread !== null)).toBe(true);
  expect(facts.some((f) => f.stacks.some((s) => s.continuation))).toBe(true);
  expect(facts.some((f) => f.system.some((s) => typeof s.value === 'number'))).toBe(true);
  const chains = (await Promise.all(CASES.map(([n, b]) => embedded(n, b, CUTS[0])))).flatMap((r) => r.findings.flatMap((f) => f.chains));
  expect(chains.some((c) => c.root.exceptionStack !== null)).toBe(true);
  expect(chains.some((c) => c.root.exceptionStack === null)).toBe(true);
  expect(chains.some((c) => c.conflicts.length > 0)).toBe(true);
});
