import type * as http from 'node:http';
import type { Log } from '@dumpstream/kafka';
import { bearerMatches } from './auth';
import { contentCoding, decodedBody, formatBytes, type BodyLimits, type ContentCoding } from './body';
import type { DuplicateCheck, DuplicateVerdict } from './duplicate';
import { detailOf, IngestError, toIngestError } from './errors';
import { ReportLookup } from './lookup';
import { readUploadMetadata, type UploadMetadata } from './metadata';
import { publishTranscript, type PublishTarget } from './publish';

/** The one upload route. */
export const TRANSCRIPTS_PATH = '/v1/transcripts';

export interface UploadApiOptions {
  token: string | null;
  maxBytes: number;
  maxConcurrent: number;
  /** Longest wait for more body bytes while ingest is ready for them. */
  idleMs: number;
  /** Slowest average rate accepted, counted over the time spent waiting for the client. */
  minRate: BodyLimits['minRate'];
  /** /healthz, /readyz, /metrics when served on this port (healthRoutes of @dumpstream/runtime). */
  health: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | null;
  /** Seconds a 429 tells the client to wait. */
  retryAfterSeconds?: number;
  /** Tells the answer whether identical bytes were uploaded before; without it the answer says `duplicate: null`. */
  duplicates?: DuplicateCheck;
  /** Serves GET /v1/reports… and /v1/storms… when given (the look-up API). */
  lookup?: ReportLookup;
}

/** After an early answer, the rest of a body is read and dropped up to this much, then the connection is cut. */
const LINGER_BYTES = 8 * 1024 * 1024;
const LINGER_MS = 2000;
/** gzip's worst-case growth on incompressible input, and its header: a compressed body larger than this is over the limit. */
const gzipBound = (n: number): number => n + Math.ceil(n / 1000) + 1024;

/**
 * The HTTP side of ingest: `POST /v1/transcripts`. Checks, in order, the route, the token, the
 * number of uploads in progress, the metadata, the encoding and the announced length, each with
 * its own status and a JSON `{ error, code }`; then streams the body through publishTranscript
 * and answers 202 with what it became, and whether it duplicates an earlier upload (then no new
 * report comes: the earlier upload's is the one). Never throws into the server.
 */
export class UploadApi {
  private active = 0;
  private stopping = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly target: PublishTarget,
    private readonly options: UploadApiOptions,
    private readonly log: Log,
  ) {}

  /** Uploads being read now. */
  get uploadsInProgress(): number {
    return this.active;
  }

  /** The server's `request` handler; also its `checkContinue` handler with `expectContinue` true. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, expectContinue = false): void {
    // Body errors surface through the body iterator; this keeps a late one from being unhandled.
    req.on('error', () => {});
    try {
      if (this.options.health?.(req, res)) return;
      this.route(req, res, expectContinue);
    } catch (e) {
      this.log.error('request handler failed', { error: e });
      this.answerError(req, res, toIngestError(e), expectContinue);
    }
  }

  /** Refuses new uploads from now on (503) and resolves when those in progress have ended. */
  async drain(): Promise<void> {
    this.stopping = true;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private route(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://ingest.invalid');
    } catch {
      url = new URL('http://ingest.invalid/');
    }
    if (this.options.lookup && ReportLookup.serves(url.pathname)) return this.options.lookup.handle(req, res, url);
    if (url.pathname !== TRANSCRIPTS_PATH) {
      return this.answerError(req, res, new IngestError('NOT_FOUND', `not found: uploads go to POST ${TRANSCRIPTS_PATH}`), expectContinue);
    }
    if (req.method !== 'POST') {
      return this.answerError(req, res, new IngestError('METHOD_NOT_ALLOWED', `${TRANSCRIPTS_PATH} takes POST only`), expectContinue, { allow: 'POST' });
    }
    if (this.stopping) return this.reject(req, res, new IngestError('STOPPING', 'ingest is shutting down: try again shortly'), expectContinue, { 'retry-after': '5' });
    const token = this.options.token;
    if (token !== null && !bearerMatches(req.headers.authorization, token)) {
      const why = req.headers.authorization === undefined ? 'a bearer token is required (Authorization: Bearer <token>)' : 'the bearer token is not valid';
      return this.reject(req, res, new IngestError('UNAUTHORIZED', why), expectContinue, { 'www-authenticate': 'Bearer realm="dumpstream"' });
    }
    if (this.active >= this.options.maxConcurrent) {
      const wait = String(this.options.retryAfterSeconds ?? 5);
      return this.reject(req, res, new IngestError('TOO_MANY_UPLOADS', `${this.options.maxConcurrent} uploads are in progress already: retry after ${wait} s`), expectContinue, { 'retry-after': wait });
    }
    let meta: UploadMetadata;
    let coding: ContentCoding;
    try {
      meta = readUploadMetadata(req.headers, url.searchParams);
      coding = contentCoding(req.headers['content-encoding']);
      checkContentType(req.headers['content-type']);
      this.checkLength(req.headers['content-length'], coding);
    } catch (e) {
      return this.reject(req, res, toIngestError(e), expectContinue);
    }
    this.active++;
    if (expectContinue) res.writeContinue();
    const upload = this.upload(req, res, meta, coding).finally(() => {
      this.active--;
      this.inFlight.delete(upload);
    });
    this.inFlight.add(upload);
  }

  private checkLength(header: string | undefined, coding: ContentCoding): void {
    if (header === undefined) return;
    const length = Number(header);
    if (!/^\d+$/.test(header) || !Number.isSafeInteger(length)) throw new IngestError('BAD_METADATA', 'Content-Length is not a number');
    if (length === 0) throw new IngestError('EMPTY', 'empty transcript: the body has no bytes');
    const max = this.options.maxBytes;
    if (coding === 'identity' ? length > max : length > gzipBound(max)) {
      throw new IngestError('TOO_LARGE', `Content-Length ${length} is larger than the limit of ${formatBytes(max)} (${max} bytes)${coding === 'gzip' ? ' even compressed' : ''}`);
    }
  }

  private async upload(req: http.IncomingMessage, res: http.ServerResponse, meta: UploadMetadata, coding: ContentCoding): Promise<void> {
    const { metrics } = this.target;
    const endTimer = metrics.uploadDuration.startTimer({ way: 'http' });
    try {
      const body = decodedBody(req, coding, { maxBytes: this.options.maxBytes, idleMs: this.options.idleMs, minRate: this.options.minRate });
      const result = await publishTranscript(this.target, body, { ...meta, way: 'http' });
      // Asked once the manifest is out, so an upload that fails midway never claims the content.
      const verdict: DuplicateVerdict = this.options.duplicates ? await this.options.duplicates.verdict(result.dumpId, result.uploadId) : { duplicate: null };
      if (verdict.duplicate) this.log.info('identical bytes uploaded before: no new report will come', { uploadId: result.uploadId, dumpId: result.dumpId, duplicateOf: verdict.duplicateOf });
      // Held until the answer is out, so that a graceful stop does not cut it off. The response may
      // be gone already (bytes after the body that are not HTTP make Node answer 400 and close the
      // socket): then there is nothing to wait for, and waiting would hold the upload slot for ever.
      await new Promise<void>((resolve) => {
        if (res.destroyed || res.writableEnded) return resolve();
        res.once('close', resolve);
        res.once('finish', resolve);
        answer(res, 202, { ...result, ...verdict });
      });
    } catch (e) {
      const err = toIngestError(e);
      if (err.code === 'INTERNAL' || err.code === 'KAFKA') this.log.error('upload failed', { code: err.code, error: detailOf(err) });
      this.reject(req, res, err, false);
    } finally {
      endTimer();
    }
  }

  /** Answers an upload that is refused or failed, and counts it. */
  private reject(req: http.IncomingMessage, res: http.ServerResponse, err: IngestError, expectContinue: boolean, headers: Record<string, string> = {}): void {
    this.target.metrics.uploadsRejected.inc({ reason: err.code.toLowerCase() });
    this.log.info('upload refused', { code: err.code, status: err.status, reason: err.message, remote: req.socket.remoteAddress });
    this.answerError(req, res, err, expectContinue, headers);
  }

  /**
   * Sends `{ error, code }` if the socket still takes it. A client told to wait for 100 Continue
   * sends no body, so its connection is closed; other bodies are read and dropped for a moment
   * (so the client sees the answer rather than a reset), then the connection is cut.
   */
  private answerError(req: http.IncomingMessage, res: http.ServerResponse, err: IngestError, expectContinue: boolean, headers: Record<string, string> = {}): void {
    if (!res.headersSent && !res.destroyed && !req.socket.destroyed) {
      answer(res, err.status, { error: err.message, code: err.code }, expectContinue ? { ...headers, connection: 'close' } : headers);
    }
    if (!expectContinue) linger(req);
  }
}

function answer(res: http.ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Multipart forms wrap the file in boundaries that would end up in the transcript. */
function checkContentType(header: string | undefined): void {
  if (header !== undefined && /^\s*multipart\//i.test(header)) {
    throw new IngestError('NOT_TRANSCRIPT', 'multipart form uploads are not supported: send the transcript itself as the body (curl --data-binary @FILE)');
  }
}

function linger(req: http.IncomingMessage): void {
  if (req.socket.destroyed) return;
  if (req.complete) {
    req.resume();
    return;
  }
  let dropped = 0;
  const cut = (): void => {
    clearTimeout(timer);
    req.socket.destroy();
  };
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}
