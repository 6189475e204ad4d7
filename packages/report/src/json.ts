import { buildReport, reportProcess, reportStack, type Report, type ReportInput } from './report';

/** Arrays of a report that grow with the dump; written an element at a time. */
const LARGE = new Set(['processes', 'stacks']);

/**
 * The report as JSON in pieces of about `chunkChars` characters: exactly the text of
 * `JSON.stringify(report)`, but never one string, so that a dump of millions of frames is written
 * without holding its whole JSON (half a gigabyte for 1.6 M frames) besides the report itself.
 */
export function* reportJsonChunks(report: Report, chunkChars = 1 << 20): Generator<string> {
  yield* joined(jsonPieces(report, (_key, value) => value), chunkChars);
}

/**
 * The JSON of `buildReport(input)`, exactly, as UTF-8 bytes in buffers of about `chunkBytes`,
 * building each process's and stack's frames only as it is written: memory holds one process's
 * frames at a time, never the dump's. Each piece is encoded straight into the buffer: joined into
 * strings first, the pieces made strings of many parts that writing had to flatten and then
 * encode, a fifth of `analyze --format json` on a frame-heavy dump. Each buffer is new (a stream
 * may hold it after write returns).
 */
export function* reportInputJsonBytes(input: ReportInput, chunkBytes = 1 << 20): Generator<Buffer> {
  let buf = Buffer.allocUnsafe(chunkBytes);
  let used = 0;
  for (const piece of inputPieces(input)) {
    // UTF-8 takes at most 3 bytes for each UTF-16 code unit.
    if (piece.length * 3 > buf.length - used) {
      if (used > 0) {
        yield buf.subarray(0, used);
        buf = Buffer.allocUnsafe(chunkBytes);
        used = 0;
      }
      if (piece.length * 3 > buf.length) {
        yield Buffer.from(piece);
        continue;
      }
    }
    used += buf.write(piece, used);
  }
  if (used > 0) yield buf.subarray(0, used);
}

function inputPieces(input: ReportInput): Generator<string> {
  const { dump } = input;
  const skeleton = buildReport({ ...input, dump: { ...dump, processes: [], stacks: [] } });
  const lazy = { ...skeleton, processes: dump.processes, stacks: dump.stacks } as unknown as Report;
  return jsonPieces(lazy, (key, value) => (key === 'processes' ? reportProcess(value as never, dump) : reportStack(value as never, dump)));
}

/** Pieces that join to JSON.stringify(report), the large arrays an element at a time (`element` makes each). */
function* jsonPieces(report: Report, element: (key: string, value: unknown) => unknown): Generator<string> {
  yield '{';
  let first = true;
  for (const [key, value] of Object.entries(report)) {
    if (value === undefined) continue; // as JSON.stringify does
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (!LARGE.has(key) || !Array.isArray(value)) {
      yield JSON.stringify(value);
      continue;
    }
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) yield ',';
      yield JSON.stringify(element(key, value[i])) ?? 'null';
    }
    yield ']';
  }
  yield '}';
}

function* joined(pieces: Iterable<string>, chunkChars: number): Generator<string> {
  let out = '';
  for (const piece of pieces) {
    out += piece;
    if (out.length >= chunkChars) {
      yield out;
      out = '';
    }
  }
  if (out.length > 0) yield out;
}
