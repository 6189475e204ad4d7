import type { Report } from './report';

/** Arrays of a report that grow with the dump; written an element at a time. */
const LARGE = new Set(['processes', 'stacks']);

/**
 * The report as JSON in pieces of about `chunkChars` characters: exactly the text of
 * `JSON.stringify(report)`, but never one string, so that a dump of millions of frames is written
 * without holding its whole JSON (half a gigabyte for 1.6 M frames) besides the report itself.
 */
export function* reportJsonChunks(report: Report, chunkChars = 1 << 20): Generator<string> {
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
      out += `${i > 0 ? ',' : ''}${JSON.stringify(value[i]) ?? 'null'}`;
      if (out.length >= chunkChars) {
        yield out;
        out = '';
      }
    }
    out += ']';
  }
  yield `${out}}`;
}
