import { IngestError } from './errors';

/** The longest accepted `source` or `host`, in characters. */
export const MAX_LABEL_LENGTH = 256;

/** Where an upload says it came from; both end up in every SegmentMessage and the DumpManifest. */
export interface UploadMetadata {
  source: string;
  host: string | null;
}

// C0 and C1 controls, DEL, and the format characters that can hide or reorder text on a screen:
// line/paragraph separators, bidi embeddings/overrides/isolates, zero-width and BOM.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff\ufff9-\ufffb]/u;

/**
 * Checks a `source` or `host` label: trimmed, 1 to 256 characters, printable (no control, bidi or
 * zero-width characters, no U+FFFD left by bad UTF-8). Returns the trimmed label.
 * @throws IngestError BAD_METADATA saying what is wrong with it.
 */
export function validateLabel(name: 'source' | 'host', value: string): string {
  const v = value.trim();
  if (v.length === 0) throw new IngestError('BAD_METADATA', `${name} is empty`);
  if (v.length > MAX_LABEL_LENGTH) throw new IngestError('BAD_METADATA', `${name} is ${v.length} characters long; the limit is ${MAX_LABEL_LENGTH}`);
  const bad = UNPRINTABLE.exec(v);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new IngestError('BAD_METADATA', `${name} contains an unprintable character (U+${cp}) at position ${bad.index}`);
  }
  if (v.includes('\ufffd')) throw new IngestError('BAD_METADATA', `${name} is not valid UTF-8`);
  return v;
}

/**
 * HTTP header values reach Node as latin1; clients (curl, ours) send UTF-8 bytes. Reads them back
 * as UTF-8 when they are valid UTF-8, else as they came.
 */
export function headerText(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value)) return value;
  const utf8 = Buffer.from(value, 'latin1').toString('utf8');
  return utf8.includes('\ufffd') ? value : utf8;
}

/**
 * The upload's metadata: `source` from the `X-Dumpstream-Source` header or `?source=`, else
 * `upload`; `host` from `X-Dumpstream-Host` or `?host=`, else null. Both validated.
 * @throws IngestError BAD_METADATA when either is given but unacceptable, or given twice.
 */
export function readUploadMetadata(headers: Record<string, string | string[] | undefined>, query: URLSearchParams): UploadMetadata {
  const pick = (name: 'source' | 'host'): string | undefined => {
    const h = headers[`x-dumpstream-${name}`];
    if (Array.isArray(h)) throw new IngestError('BAD_METADATA', `X-Dumpstream-${name === 'source' ? 'Source' : 'Host'} is given more than once`);
    const q = query.getAll(name);
    if (q.length > 1) throw new IngestError('BAD_METADATA', `?${name}= is given more than once`);
    return h !== undefined ? headerText(h) : q[0];
  };
  const source = pick('source');
  const host = pick('host');
  return {
    source: source === undefined ? 'upload' : validateLabel('source', source),
    host: host === undefined ? null : validateLabel('host', host),
  };
}
