import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { TRANSCRIPTS_PATH } from './http';
import { validateLabel } from './metadata';
import { terminalProgress, type ProgressFactory } from './progress';

/** The help text of `dumpstream submit`. */
export const SUBMIT_USAGE = `usage: dumpstream submit [--url URL] [--token TOKEN] [--host HOST] [--gzip] FILE... | -

Streams each transcript to a dumpstream ingest service (POST URL${TRANSCRIPTS_PATH}), one after
another, and prints what each became (uploadId, dumpId) or why it was refused. \`-\` reads stdin.
A file whose bytes were uploaded before is marked \`"duplicate":true\` with the earlier upload
(\`duplicateOf\`): the pipeline has its report already and publishes no other.

  --url URL      the ingest service, e.g. http://ingest.example:8080
  --token TOKEN  bearer token, when the service requires one
  --host HOST    the machine the dumps were taken on (up to 256 printable characters)
  --gzip         compress on the way (the size limit applies to the uncompressed transcript)
`;

/** What submitTranscripts sends, where, and how it reports. */
export interface SubmitOptions {
  /** Paths of transcripts; `-` is stdin. */
  files: string[];
  /** Base URL of the ingest service (`http://host:port`, optionally with a path prefix). */
  url: string;
  token?: string;
  host?: string;
  gzip?: boolean;
  /** Gets one line per failed file, and the progress bar when it is a terminal. */
  stderr?: NodeJS.WritableStream;
  /** Called as each file's result is known. */
  onResult?: (result: SubmitResult) => void;
  /** What `-` reads. Default process.stdin. */
  stdin?: Readable;
  /** Progress bars; default a bar on stderr when it is a terminal and the file is 8 MB or more. */
  progress?: ProgressFactory;
  /** Longest wait for the service's answer once the file is sent, and for each write. Default 120 s. */
  timeoutMs?: number;
}

/** What became of one file. `status` is the HTTP status, 0 when there was no answer. */
export interface SubmitResult {
  file: string;
  ok: boolean;
  status: number;
  uploadId?: string;
  dumpId?: string;
  segments?: number;
  lines?: number;
  bytes?: number;
  /** True when identical bytes were uploaded before (no new report will come), null when ingest could not tell. */
  duplicate?: boolean | null;
  /** The earlier upload whose report these bytes have. */
  duplicateOf?: string;
  /** One line, for a person: `413 Payload Too Large: transcript larger than the limit of 4 GiB`. */
  error?: string;
}

/**
 * Streams each file to `POST <url>/v1/transcripts`, one at a time (source = the file's base name,
 * `stdin` for `-`), and returns what became of each, in order. Never throws for a file's failure:
 * it is in the result, and one line `FILE: reason` goes to `stderr`. Throws nothing at all.
 */
export async function submitTranscripts(options: SubmitOptions): Promise<SubmitResult[]> {
  const results: SubmitResult[] = [];
  const report = (r: SubmitResult): void => {
    results.push(r);
    if (!r.ok) options.stderr?.write(`${r.file}: ${r.error}\n`);
    options.onResult?.(r);
  };
  let endpoint: URL;
  let host: string | null = null;
  try {
    endpoint = transcriptsEndpoint(options.url);
    if (options.host !== undefined) host = validateLabel('host', options.host);
  } catch (e) {
    for (const file of options.files) report({ file, ok: false, status: 0, error: (e as Error).message });
    return results;
  }
  const agent = endpoint.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  try {
    for (const file of options.files) report(await submitOne(file, endpoint, host, agent, options));
  } finally {
    agent.destroy();
  }
  return results;
}

/** `<base>/v1/transcripts` of a base URL. Throws an Error with a one-line message for a bad URL. */
export function transcriptsEndpoint(base: string): URL {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(base)} (expected e.g. http://127.0.0.1:8080)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported URL scheme ${u.protocol} (use http: or https:)`);
  if (u.username || u.password) throw new Error('put the token in --token, not in the URL');
  u.pathname = `${u.pathname.replace(/\/+$/, '')}${TRANSCRIPTS_PATH}`;
  u.search = '';
  u.hash = '';
  return u;
}

/** A file's name as an acceptable `source`: unprintable characters become `_`, long names keep their end. */
export function sourceLabel(file: string): string {
  const base = file === '-' ? 'stdin' : path.basename(file);
  // eslint-disable-next-line no-control-regex
  let s = base.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff\ufff9-\ufffd]/gu, '_').trim();
  if (s.length > 256) s = `…${s.slice(-255)}`;
  return s === '' ? 'upload' : s;
}

async function submitOne(file: string, endpoint: URL, host: string | null, agent: http.Agent, options: SubmitOptions): Promise<SubmitResult> {
  const fail = (status: number, error: string): SubmitResult => ({ file, ok: false, status, error });
  let input: Readable;
  let size: number | null = null;
  if (file === '-') {
    input = options.stdin ?? process.stdin;
  } else {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
      const st = await handle.stat();
      if (st.isDirectory()) {
        await handle.close();
        return fail(0, 'is a folder, not a transcript');
      }
      size = st.isFile() ? st.size : null;
    } catch (e) {
      return fail(0, `cannot read: ${fsReason(e)}`);
    }
    // Up to the size announced in Content-Length, even if the file grows meanwhile.
    input = handle.createReadStream({ highWaterMark: 256 * 1024, ...(size !== null && size > 0 ? { end: size - 1 } : {}) });
  }

  const url = new URL(endpoint);
  const headers: Record<string, string> = { 'content-type': 'text/plain' };
  const source = sourceLabel(file);
  setLabel(headers, url, 'source', source);
  if (host !== null) setLabel(headers, url, 'host', host);
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.gzip) headers['content-encoding'] = 'gzip';
  else if (size !== null) headers['content-length'] = String(size);

  const bar = options.stderr ? (options.progress ?? terminalProgress)(options.stderr, source, size) : null;
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      bar?.update(sent);
      done(null, chunk);
    },
  });
  try {
    const answer = await post(url, headers, input, counter, options.gzip === true, agent, options.timeoutMs ?? 120_000);
    return resultOf(file, answer);
  } catch (e) {
    return fail(0, (e as Error).message);
  } finally {
    bar?.done();
    if (file !== '-') input.destroy();
  }
}

/** Printable ASCII goes in the header; anything else in the query, where UTF-8 is unambiguous. */
function setLabel(headers: Record<string, string>, url: URL, name: 'source' | 'host', value: string): void {
  if (/^[\x20-\x7e]+$/.test(value)) headers[`x-dumpstream-${name}`] = value;
  else url.searchParams.set(name, value);
}

interface Answer {
  status: number;
  body: string;
}

function post(url: URL, headers: Record<string, string>, input: Readable, counter: Transform, gzip: boolean, agent: http.Agent, timeoutMs: number): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method: 'POST', headers, agent });
    let answered = false;
    let settled = false;
    const settle = (err: Error | null, a?: Answer): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(a!);
    };
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer from ${url.origin} within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT_ANSWER' })));
    req.on('response', (res) => {
      answered = true;
      // An early answer (401, 413, 415…) while the body is still going: stop sending it.
      if (!req.writableFinished) {
        input.unpipe();
        counter.unpipe();
      }
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        if (n < 64 * 1024) chunks.push(c);
        n += c.length;
      });
      const done = (): void => {
        settle(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        if (!req.writableFinished) req.destroy();
      };
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (answered) return; // the answer counts, not the broken pipe after it
      settle(new Error(connectionReason(e, url)));
    });
    const fromInput = (e: Error): void => {
      settle(new Error(`cannot read: ${fsReason(e)}`));
      req.destroy();
    };
    input.on('error', fromInput);
    let body: Readable = input.pipe(counter);
    if (gzip) {
      const z = zlib.createGzip({ level: 1 });
      z.on('error', fromInput);
      body = body.pipe(z);
    }
    body.pipe(req);
  });
}

function resultOf(file: string, a: Answer): SubmitResult {
  let json: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(a.body);
    if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: a proxy's page, say
  }
  if (a.status === 202 && json && typeof json.uploadId === 'string') {
    return {
      file,
      ok: true,
      status: a.status,
      uploadId: json.uploadId,
      dumpId: String(json.dumpId),
      segments: Number(json.segments),
      lines: Number(json.lines),
      bytes: Number(json.bytes),
      duplicate: typeof json.duplicate === 'boolean' ? json.duplicate : null,
      ...(typeof json.duplicateOf === 'string' ? { duplicateOf: json.duplicateOf } : {}),
    };
  }
  const said = typeof json?.error === 'string' ? json.error : a.body.split('\n')[0].slice(0, 200).trim() || 'no explanation given';
  return { file, ok: false, status: a.status, error: `${a.status} ${http.STATUS_CODES[a.status] ?? 'HTTP error'}: ${said}` };
}

function connectionReason(e: NodeJS.ErrnoException, url: URL): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${url.origin}: connection refused (is the ingest service running?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve ${url.hostname}`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection to ${url.origin} was closed before an answer`;
    case 'ETIMEDOUT':
      return `timed out connecting to ${url.origin}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `cannot reach ${url.origin}: no route to host`;
    case 'ETIMEDOUT_ANSWER':
      return e.message;
    default:
      return `request to ${url.origin} failed: ${e.code ?? e.message}`;
  }
}

function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a folder, not a transcript';
    default:
      return err.code ?? err.message;
  }
}
