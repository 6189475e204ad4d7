import { buildReport, reportProcess, reportStack, type Report, type ReportInput } from './report';

/** Arrays of a report that grow with the dump; written an element at a time. */
const LARGE = new Set(['processes', 'stacks']);

/**
 * The report as JSON in pieces of about `chunkChars` characters: exactly the text of
 * `JSON.stringify(report)`, but never one string, so that a dump of millions of frames is written
 * without holding its whole JSON (half a gigabyte for 1.6 M frames) besides the report itself.
 */
export function* reportJsonChunks(report: Report, chunkChars = 1 << 20): Generator<string> {
  yield* jsonChunks(report, chunkChars, (_key, value) => value);
}

/**
 * The JSON of `buildReport(input)` in pieces, exactly, building each process's and stack's frames
 * only as it is written: memory holds one process's frames at a time, never the dump's.
 */
export function* reportInputJsonChunks(input: ReportInput, chunkChars = 1 << 20): Generator<string> {
  const { dump } = input;
  const skeleton = buildReport({ ...input, dump: { ...dump, processes: [], stacks: [] } });
  const lazy = { ...skeleton, processes: dump.processes, stacks: dump.stacks } as unknown as Report;
  yield* jsonChunks(lazy, chunkChars, (key, value) =>
    key === 'processes' ? reportProcess(value as never, dump) : reportStack(value as never, dump),
  );
}

function* jsonChunks(report: Report, chunkChars: number, element: (key: string, value: unknown) => unknown): Generator<string> {
  let out = '{';
  let first = true;
  for (const [key, value] of Object.entries(report)) {
    if (value === undefined) continue; // as JSON.stringify does
    out += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (!LARGE.has(key) || !Array.isArray(value)) {
      out += JSON.stringify(value);
      continue;
    }
    out += '[';
    for (let i = 0; i < value.length; i++) {
      out += `${i > 0 ? ',' : ''}${JSON.stringify(element(key, value[i])) ?? 'null'}`;
      if (out.length >= chunkChars) {
        yield out;
        out = '';
      }
    }
    out += ']';
  }
  yield `${out}}`;
}
