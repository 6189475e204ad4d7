import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { IngestError, isIngestError } from './errors';

/** The content codings ingest reads. */
export type ContentCoding = 'identity' | 'gzip';

/**
 * The coding of a `Content-Encoding` header: none or `identity` as is, `gzip` (or `x-gzip`).
 * @throws IngestError UNSUPPORTED_ENCODING for any other coding, or a chain of several.
 */
export function contentCoding(header: string | undefined): ContentCoding {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return 'identity';
  if (codings.length === 1 && (codings[0] === 'gzip' || codings[0] === 'x-gzip')) return 'gzip';
  const shown = (header ?? '').slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
  throw new IngestError('UNSUPPORTED_ENCODING', `Content-Encoding ${JSON.stringify(shown)} is not supported: send the transcript as is or gzip-compressed`);
}

export interface BodyLimits {
  /** Most bytes the decoded body may have; one more and reading stops with TOO_LARGE. */
  maxBytes: number;
  /** Longest wait for the next bytes while ingest is ready for them; then the source is destroyed with TIMEOUT. */
  idleMs?: number;
  /**
   * Slowest average rate accepted once `afterMs` have been spent waiting for the source (time the
   * consumer spends elsewhere, waiting for Kafka say, does not count): a trickle, one byte now
   * and then, cannot hold an upload slot for hours. Slower gives TIMEOUT.
   */
  minRate?: { bytesPerSecond: number; afterMs: number };
}

/**
 * The decoded bytes of a body, as they come: gunzipped when `coding` is gzip, counted, and cut
 * off the moment they pass `maxBytes` (inflating stops there too: the inflater never runs ahead
 * of the reader by more than its buffer, so a gzip bomb costs a few KiB past the limit).
 *
 * Leaves `raw` undestroyed when the consumer stops early or the limit is hit, so an HTTP server
 * can still answer on its socket; the inflater is always destroyed.
 * @throws IngestError TOO_LARGE, BAD_ENCODING (bad gzip), CLIENT_ABORTED (the source failed or
 *   closed before its end), TIMEOUT (nothing for idleMs).
 */
export async function* decodedBody(raw: Readable, coding: ContentCoding, limits: BodyLimits): AsyncGenerator<Buffer, void, undefined> {
  let inflater: zlib.Gunzip | undefined;
  let source: AsyncIterator<Buffer>;
  if (coding === 'gzip') {
    const gunzip = zlib.createGunzip();
    inflater = gunzip;
    raw.pipe(gunzip);
    raw.once('error', (e) => gunzip.destroy(e));
    raw.once('close', () => {
      if (!raw.readableEnded) gunzip.destroy(new IngestError('CLIENT_ABORTED', 'the client disconnected before the end of the transcript'));
    });
    source = gunzip[Symbol.asyncIterator]();
  } else {
    source = raw.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
  }
  let total = 0;
  let waitedMs = 0;
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      if (limits.idleMs !== undefined) {
        const ms = limits.idleMs;
        timer = setTimeout(() => raw.destroy(new IngestError('TIMEOUT', `no data for ${ms / 1000} s: upload abandoned`)), ms);
      }
      let next: IteratorResult<Buffer>;
      const waitStart = Date.now();
      try {
        next = await source.next();
      } finally {
        clearTimeout(timer);
        waitedMs += Date.now() - waitStart;
      }
      if (next.done) return;
      const rate = limits.minRate;
      if (rate && waitedMs > rate.afterMs) {
        const rawBytes = inflater ? inflater.bytesWritten : total;
        const perSecond = (rawBytes * 1000) / waitedMs;
        if (perSecond < rate.bytesPerSecond) throw new IngestError('TIMEOUT', `upload too slow: ${Math.round(perSecond)} bytes/s, below the minimum of ${rate.bytesPerSecond}`);
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      total += chunk.length;
      if (total > limits.maxBytes) {
        throw new IngestError('TOO_LARGE', `transcript larger than the limit of ${formatBytes(limits.maxBytes)}${coding === 'gzip' ? ' (decompressed)' : ''}`);
      }
      yield chunk;
    }
  } catch (e) {
    throw bodyError(e, coding);
  } finally {
    if (inflater) {
      raw.unpipe(inflater);
      inflater.destroy();
    }
    void source.return?.();
  }
}

function bodyError(e: unknown, coding: ContentCoding): unknown {
  if (isIngestError(e)) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.message === 'aborted') {
    return new IngestError('CLIENT_ABORTED', 'the client disconnected before the end of the transcript', { cause: e });
  }
  if (coding === 'gzip' && typeof err.code === 'string' && err.code.startsWith('Z_')) {
    return new IngestError('BAD_ENCODING', `the body is not valid gzip (${err.message})`, { cause: e });
  }
  return e;
}

/** `4 GiB`, `1.5 MiB`, `1000 bytes`. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (n >= size) return `${+(n / size).toFixed(2)} ${unit}`;
  }
  return `${n} bytes`;
}
