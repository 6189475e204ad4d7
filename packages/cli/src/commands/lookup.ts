import { EXIT, UsageError, type Io } from './common';

export const REPORT_USAGE = `usage: dumpstream report DUMPID [--format text|json|html] [--url URL] [--token TOKEN]

  Prints the report the pipeline kept for a dump (GET /v1/reports/DUMPID on ingest).
  --format text   the report for a person, as dumpstream analyze prints it (default)
  --format json   the report (schema dumpstream.report/v1), as analyze --format json
  --format html   the page analyze --format html draws
  --url URL       ingest's address (default DUMPSTREAM_URL)
  --token TOKEN   the uploads' bearer token (default DUMPSTREAM_TOKEN)
`;

export const STORMS_USAGE = `usage: dumpstream storms [--all] [--format text|json] [--url URL] [--token TOKEN]

  Lists the faults storming across the fleet now (GET /v1/storms on ingest): a table of
  signature, state, dumps in the window, hosts, since and trend.
  --all           every signature seen in the window, storming or not
  --format json   the API's answer as it is
  --url URL       ingest's address (default DUMPSTREAM_URL)
  --token TOKEN   the uploads' bearer token (default DUMPSTREAM_TOKEN)
`;

interface Common {
  url: string;
  token: string | undefined;
  format: string;
  positional: string[];
  all: boolean;
}

function parse(argv: string[], io: Io, formats: readonly string[]): Common {
  const env = io.env ?? process.env;
  const out: Common = { url: env.DUMPSTREAM_URL ?? '', token: env.DUMPSTREAM_TOKEN || undefined, format: 'text', positional: [], all: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const eq = a.indexOf('=');
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (name === '--url') out.url = value();
    else if (name === '--token') out.token = value();
    else if (name === '--format' || name === '-f') {
      out.format = value();
      if (!formats.includes(out.format)) throw new UsageError(`--format must be ${formats.join(', ')}, not ${JSON.stringify(out.format)}`);
    } else if (a === '--all' && formats.length === 2) out.all = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else out.positional.push(a);
  }
  if (!out.url) throw new UsageError('--url is required (or DUMPSTREAM_URL), e.g. --url http://ingest:8080');
  if (!/^https?:\/\//.test(out.url)) throw new UsageError(`--url must be an http:// or https:// address, not ${JSON.stringify(out.url)}`);
  return out;
}

/** A failure to say in one line (no stack): the API's own message where it gave one. */
class LookupFailed extends Error {}

async function get(c: Common, path: string): Promise<{ status: number; type: string; body: string; kept: string | null }> {
  const url = `${c.url.replace(/\/+$/, '')}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: c.token ? { authorization: `Bearer ${c.token}` } : {}, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    throw new LookupFailed(`cannot reach ${c.url} (${why}): is ingest running there? (--url or DUMPSTREAM_URL)`);
  }
  const body = await res.text();
  if (res.ok) return { status: res.status, type: res.headers.get('content-type') ?? '', body, kept: res.headers.get('x-dumpstream-kept') };
  let message = body.trim().slice(0, 300);
  try {
    message = (JSON.parse(body) as { error?: string }).error ?? message;
  } catch {
    // not JSON: a proxy's page, say; its first line is shown
  }
  if (res.status === 401) throw new LookupFailed(`${c.url} refused the token (${message}): give the uploads' token with --token or DUMPSTREAM_TOKEN`);
  if (res.status === 404 && !/json/.test(res.headers.get('content-type') ?? '')) throw new LookupFailed(`${c.url} has no look-up API (404): is it ingest?`);
  throw new LookupFailed(`${message} (HTTP ${res.status})`);
}

async function guarded(io: Io, what: string, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof LookupFailed)) throw e;
    io.stderr.write(`dumpstream ${what}: ${e.message}\n`);
    return EXIT.inputFailed;
  }
}

/** `dumpstream report DUMPID [--format text|json|html]`. */
export async function reportCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(REPORT_USAGE);
    return EXIT.ok;
  }
  const c = parse(argv, io, ['text', 'json', 'html']);
  if (c.positional.length !== 1) throw new UsageError(c.positional.length === 0 ? 'name the dump: dumpstream report DUMPID' : 'one dump at a time');
  return guarded(io, 'report', async () => {
    const r = await get(c, `/v1/reports/${encodeURIComponent(c.positional[0])}?format=${c.format}`);
    io.stdout.write(r.body);
    if (r.kept === 'summary') io.stderr.write('dumpstream report: only the summary of this report was kept (larger than REPORT_KEEP_MAX_BYTES)\n');
    if (r.kept === 'without-frames') io.stderr.write("dumpstream report: this report was kept without its threads' and stacks' frames (larger than REPORT_KEEP_MAX_BYTES with them)\n");
    return EXIT.ok;
  });
}

interface Storm {
  signature: string;
  state: string;
  dumps: number;
  hosts: number;
  since: number | null;
  trend: string | null;
}

/** `dumpstream storms [--all] [--format text|json]`. */
export async function stormsCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(STORMS_USAGE);
    return EXIT.ok;
  }
  const c = parse(argv, io, ['text', 'json']);
  if (c.positional.length > 0) throw new UsageError(`unexpected ${JSON.stringify(c.positional[0])}: storms takes options only`);
  return guarded(io, 'storms', async () => {
    const r = await get(c, `/v1/storms${c.all ? '?all=1' : ''}`);
    if (c.format === 'json') {
      io.stdout.write(r.body);
      return EXIT.ok;
    }
    const { storms } = JSON.parse(r.body) as { storms: Storm[] };
    io.stdout.write(stormTable(storms, c.all));
    return EXIT.ok;
  });
}

/** The storms as a table for a terminal. */
export function stormTable(storms: readonly Storm[], all: boolean, now = Date.now()): string {
  if (storms.length === 0) return all ? 'no signature seen in the window\n' : 'no storm now (dumpstream storms --all lists every signature seen)\n';
  const rows = [
    ['SIGNATURE', 'STATE', 'DUMPS', 'HOSTS', 'SINCE', 'TREND'],
    ...storms.map((s) => [s.signature, s.state, String(s.dumps), String(s.hosts), s.since === null ? '-' : `${new Date(s.since).toISOString().slice(0, 16).replace('T', ' ')}Z (${ago(now - s.since)})`, s.trend ?? '-']),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : i === 2 || i === 3 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

function ago(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min ago` : `${Math.floor(h / 24)} d ago`;
}
