import { once } from 'node:events';
import type * as http from 'node:http';
import type { Log } from '@dumpstream/kafka';
import { assertId, type ReportStore, type ReportSummary } from '@dumpstream/redis';
import { htmlPage, renderHtml, renderText, reportJsonChunks, escapeMarkup } from '@dumpstream/report';
import { parseDurationMs } from '@dumpstream/runtime';
import { decodeReport } from '@dumpstream/schemas';
import { bearerMatches } from './auth';
import type { StormSource } from './storms';

/** The look-up routes: `/v1/reports…` and `/v1/storms…`. */
export const REPORTS_PATH = '/v1/reports';
export const STORMS_PATH = '/v1/storms';

/** Why a look-up was refused; each with its HTTP status. */
export const LOOKUP_ERROR_CODES = ['BAD_PARAMETER', 'UNAUTHORIZED', 'NOT_FOUND', 'METHOD_NOT_ALLOWED', 'REDIS_UNAVAILABLE', 'INTERNAL'] as const;
export type LookupErrorCode = (typeof LOOKUP_ERROR_CODES)[number];
const STATUS: Record<LookupErrorCode, number> = { BAD_PARAMETER: 400, UNAUTHORIZED: 401, NOT_FOUND: 404, METHOD_NOT_ALLOWED: 405, REDIS_UNAVAILABLE: 503, INTERNAL: 500 };

const BRAND = Symbol.for('dumpstream.LookupError');

/** A look-up answered with an error: `message` is for the client as is (never a stack or an address); `parameter` names the bad one. */
export class LookupError extends Error {
  readonly [BRAND] = true;
  readonly status: number;
  constructor(
    readonly code: LookupErrorCode,
    message: string,
    readonly parameter?: string,
  ) {
    super(message);
    this.name = 'LookupError';
    this.status = STATUS[code];
  }
}

/** Brand check that survives duplicated modules and jest realms. */
export function isLookupError(e: unknown): e is LookupError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

export interface LookupOptions {
  /** The uploads' bearer token (INGEST_TOKEN); null: open, as uploads are. */
  token: string | null;
  /** Whether the report store's Redis is connected now: when not, failures answer 503. */
  redisReady: () => boolean;
  now?: () => number;
}

const FORMATS = ['json', 'html', 'text'] as const;
type Format = (typeof FORMATS)[number];
const MAX_LIMIT = 1000;
/** Dumps listed with one storm. */
const STORM_DUMPS = 20;

/**
 * The look-up API served by ingest: kept reports (ReportStore) and storms (a StormSource). Every
 * answer is JSON unless a report is asked for as HTML or text; errors are `{ error, code }` (and
 * `parameter` for a 400), never a stack trace. Never throws into the server.
 */
export class ReportLookup {
  private readonly now: () => number;

  constructor(
    private readonly reports: ReportStore,
    private readonly storms: StormSource,
    private readonly options: LookupOptions,
    private readonly log: Log,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Whether a path is the look-up's (else the caller routes it elsewhere). */
  static serves(pathname: string): boolean {
    return pathname === REPORTS_PATH || pathname.startsWith(`${REPORTS_PATH}/`) || pathname === STORMS_PATH || pathname.startsWith(`${STORMS_PATH}/`);
  }

  /** Answers one request; `url` is parsed already (the path is read again as sent, still percent-encoded, to decode a signature once). */
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const rawPath = (req.url ?? '/').split('?')[0];
    this.route(req, res, url, rawPath).catch((e: unknown) => {
      const err = this.toLookupError(e);
      if (err.code === 'INTERNAL' || err.code === 'REDIS_UNAVAILABLE') this.log.warn('look-up failed', { code: err.code, path: url.pathname, error: e });
      if (!res.headersSent && !res.destroyed) answer(res, err.status, { error: err.message, code: err.code, ...(err.parameter ? { parameter: err.parameter } : {}) }, err.code === 'UNAUTHORIZED' ? { 'www-authenticate': 'Bearer realm="dumpstream"' } : err.code === 'METHOD_NOT_ALLOWED' ? { allow: 'GET, HEAD' } : {});
      else res.destroy();
    });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, rawPath: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new LookupError('METHOD_NOT_ALLOWED', `${url.pathname} takes GET only`);
    // Drained so that a client that sent a body anyway gets its answer on a clean connection.
    req.resume();
    const token = this.options.token;
    if (token !== null && !bearerMatches(req.headers.authorization, token)) {
      throw new LookupError('UNAUTHORIZED', req.headers.authorization === undefined ? 'a bearer token is required (Authorization: Bearer <token>, the uploads\' token)' : 'the bearer token is not valid');
    }
    const q = url.searchParams;
    const segments = rawPath.split('/').slice(3); // '', 'v1', 'reports' | 'storms', …
    const rest = segments.length === 0 ? null : decodeSegment(segments.join('/'));
    if (rawPath.startsWith(STORMS_PATH)) {
      if (rest === null) return answer(res, 200, { source: this.storms.name, storms: await this.storms.list(flag(q, 'all')) });
      const storm = await this.storms.one(rest);
      if (storm === null) throw new LookupError('NOT_FOUND', `no storm and no dump of signature ${JSON.stringify(rest)} in the window`);
      const dumps = await this.reports.list({ signature: rest, limit: STORM_DUMPS });
      return answer(res, 200, { source: this.storms.name, storm, dumps: dumps.reports });
    }
    if (rest === null) return answer(res, 200, await this.reports.list(listQuery(q, this.now())));
    return this.report(res, rest, formatOf(q));
  }

  private async report(res: http.ServerResponse, dumpId: string, format: Format): Promise<void> {
    try {
      assertId(dumpId);
    } catch {
      throw new LookupError('BAD_PARAMETER', 'dumpId: expected the 64 hex digits of a dump id (or an upload id for a report made without a manifest)', 'dumpId');
    }
    const kept = await this.reports.get(dumpId);
    if (kept === null) throw new LookupError('NOT_FOUND', `no report kept for dump ${dumpId}: never reported, or older than REPORT_RETENTION`);
    const headers = { 'x-dumpstream-kept': kept.summary.kept };
    if (kept.avro === null) return summaryOnly(res, kept.summary, format, headers);
    const report = decodeReport(kept.avro);
    if (format === 'html') return send(res, 200, 'text/html; charset=utf-8', renderHtml(report), headers);
    if (format === 'text') return send(res, 200, 'text/plain; charset=utf-8', `${renderText(report)}\n`, headers);
    // The exact text of `dumpstream analyze --format json` for the same report, in pieces: a
    // report of many frames is tens of megabytes of JSON, never held as one string.
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
    if (res.req?.method === 'HEAD') return void res.end();
    for (const piece of reportJsonChunks(report)) {
      // A client gone mid-answer never drains: stop instead of waiting for it.
      if (!res.write(piece)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      if (res.destroyed) return;
    }
    res.end('\n');
  }

  private toLookupError(e: unknown): LookupError {
    if (isLookupError(e)) return e;
    if (e instanceof RangeError && (e as { code?: unknown }).code === 'BAD_CURSOR') return new LookupError('BAD_PARAMETER', e.message, 'cursor');
    if (!this.options.redisReady()) return new LookupError('REDIS_UNAVAILABLE', 'the report store (Redis) is not reachable: try again shortly');
    return new LookupError('INTERNAL', 'internal error');
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new LookupError('BAD_PARAMETER', 'the path is not valid percent-encoding (encode a signature with encodeURIComponent)', 'path');
  }
}

function flag(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  if (/^(1|true|yes|)$/i.test(v)) return true;
  if (/^(0|false|no)$/i.test(v)) return false;
  throw new LookupError('BAD_PARAMETER', `${name}: expected 1 or 0, not ${JSON.stringify(v.slice(0, 40))}`, name);
}

function formatOf(q: URLSearchParams): Format {
  const v = q.get('format') ?? 'json';
  if (!(FORMATS as readonly string[]).includes(v)) throw new LookupError('BAD_PARAMETER', `format: expected json, html or text, not ${JSON.stringify(v.slice(0, 40))}`, 'format');
  return v as Format;
}

/** A time: ISO 8601, milliseconds since the epoch, or a duration before now (`24h`, `7d`). */
function timeOf(q: URLSearchParams, name: string, now: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (/^\d{10,16}$/.test(v)) return Number(v);
  const ago = parseDurationMs(v);
  if (ago !== null && /[a-z]$/i.test(v.trim())) return now - ago;
  const t = Date.parse(v);
  if (!Number.isNaN(t) && /^\d{4}-\d\d-\d\d/.test(v)) return t;
  throw new LookupError('BAD_PARAMETER', `${name}: expected an ISO 8601 time (2026-12-03T07:00:00Z), milliseconds since the epoch, or a duration before now (24h, 7d); not ${JSON.stringify(v.slice(0, 40))}`, name);
}

function listQuery(q: URLSearchParams, now: number) {
  const text = (name: string): string | undefined => {
    const v = q.get(name);
    if (v === null) return undefined;
    if (v === '' || v.length > 1024) throw new LookupError('BAD_PARAMETER', `${name}: expected 1 to 1024 characters`, name);
    return v;
  };
  const since = timeOf(q, 'since', now);
  const until = timeOf(q, 'until', now);
  if (since !== undefined && until !== undefined && since > until) throw new LookupError('BAD_PARAMETER', 'since: later than until', 'since');
  const limitText = q.get('limit');
  const limit = limitText === null ? 50 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT || !/^\d+$/.test(limitText ?? '1')) {
    throw new LookupError('BAD_PARAMETER', `limit: expected a whole number from 1 to ${MAX_LIMIT}`, 'limit');
  }
  return { signature: text('signature'), host: text('host'), since, until, limit, cursor: text('cursor') };
}

function summaryOnly(res: http.ServerResponse, s: ReportSummary, format: Format, headers: Record<string, string>): void {
  if (format === 'json') return answer(res, 200, { schema: 'dumpstream.report-summary/v1', summary: s, report: null, note: s.note ?? 'only the summary is kept' }, headers);
  const lines = summaryLines(s);
  if (format === 'text') return send(res, 200, 'text/plain; charset=utf-8', `${lines.join('\n')}\n`, headers);
  const section = `<section class="report" data-source="${escapeMarkup(s.source)}">\n<h2>${escapeMarkup(s.source)}</h2>\n<ul>${lines.map((l) => `<li>${escapeMarkup(l)}</li>`).join('')}</ul>\n</section>`;
  return send(res, 200, 'text/html; charset=utf-8', htmlPage([section], s.source), headers);
}

/** A summary as lines for a person (also the CLI's text for a summary-only report). */
export function summaryLines(s: ReportSummary): string[] {
  return [
    `dump ${s.dumpId} (${s.source}), ${s.state}`,
    `host: ${s.host ?? '(not given)'}; received ${new Date(s.time).toISOString()}`,
    `signature: ${s.signature ?? '(no finding)'}`,
    `root image: ${s.rootImage ?? '(unknown)'}; deepest chain ${s.chainDepth}; ${s.werFaults} WerFault.exe`,
    s.note ?? '',
  ].filter((l) => l !== '');
}

function answer(res: http.ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, headers);
}

function send(res: http.ServerResponse, status: number, type: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers });
  res.end(res.req?.method === 'HEAD' ? undefined : text);
}
