/**
 * `npm run pipeline` (deploy/local/pipeline.sh) as a user runs it, on the test run's broker and
 * Redis: it says where to upload, its services start without warnings, an upload becomes a report,
 * each service is a pid of its own (a signal reaches it, unlike `npx dumpstream ingest &`), and
 * Ctrl-C (SIGINT) stops them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync, readdirSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { run } from '@dumpstream/cli';
import { submitTranscripts } from '@dumpstream/ingest';
import { uniquePrefix, waitFor } from '../support/ids';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..');
const SEED = path.join(ROOT, 'test', 'fixtures', 'seed-error-reporting-fault.txt');
const prefix = uniquePrefix('local');
let dir: string;
let script: ChildProcess;
let stderr = '';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Pids whose parent is `pid`, with their command lines. */
function childrenOf(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(e), cmd: readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let ingestPort: number;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ds-local-'));
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  ingestPort = p1;
  script = spawn('bash', [path.join(ROOT, 'deploy', 'local', 'pipeline.sh')], {
    cwd: ROOT,
    env: {
      ...process.env,
      INGEST_LISTEN: `127.0.0.1:${p1}`,
      PARSE_HEALTH: `127.0.0.1:${p2}`,
      DETECT_HEALTH: `127.0.0.1:${p3}`,
      PIPELINE_DIR: path.join(dir, 'logs'),
      DUMPSTREAM_TOPIC_PREFIX: `${prefix}.`,
      REDIS_KEY_PREFIX: prefix,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  script.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  await waitFor('pipeline: ready', () => (stderr.includes('pipeline: ready') ? true : script.exitCode !== null ? Promise.reject(new Error(stderr)) : undefined), 90_000, 200);
});

afterAll(async () => {
  if (script && script.exitCode === null) script.kill('SIGTERM');
  await fs.rm(dir, { recursive: true, force: true });
});

describe('npm run pipeline', () => {
  it('says where to upload and how to watch', () => {
    expect(stderr).toContain(`npx dumpstream submit --url http://127.0.0.1:${ingestPort} FILE...`);
    expect(stderr).toContain(`KAFKA_BROKERS=${process.env.KAFKA_BROKERS} npx dumpstream watch reports`);
  });

  it('turns an upload into a report', async () => {
    const file = path.join(dir, 'seed.txt');
    await fs.writeFile(file, `${readFileSync(SEED, 'utf8').trimEnd()}\n0: kd> * ${prefix}\n`);
    const [up] = await submitTranscripts({ files: [file], url: `http://127.0.0.1:${ingestPort}` });
    expect(up).toMatchObject({ ok: true, duplicate: false });
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const code = await run(['watch', 'reports', '--from-beginning', '--count', '1', '--timeout', '60', '--format', 'json'], {
      stdout: out,
      stderr: new PassThrough(),
      stdin: Readable.from([]),
      env: { ...process.env, DUMPSTREAM_TOPIC_PREFIX: `${prefix}.` },
    });
    expect(code).toBe(0);
    expect(JSON.parse(text)).toMatchObject({ dumpId: up.dumpId, source: 'seed.txt' });
  });

  it('starts its services without warnings in their logs', async () => {
    for (const name of ['ingest', 'parse', 'detect']) {
      const log = await fs.readFile(path.join(dir, 'logs', `${name}.log`), 'utf8');
      expect({ name, warnings: log.split('\n').filter((l) => /"level":"(warn|error)"/.test(l)) }).toEqual({ name, warnings: [] });
    }
  });

  it('runs each service as a pid of its own, and stops them all on SIGINT', async () => {
    const services = childrenOf(script.pid!);
    expect(services.map((s) => s.cmd.split(' ').pop()).sort()).toEqual(['detect', 'ingest', 'parse']);
    for (const s of services) expect(s.cmd).toMatch(/^node .*dumpstream\.js (ingest|parse|detect)$/);
    const exited = new Promise<number | null>((resolve) => script.once('exit', (code) => resolve(code)));
    script.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(services.filter((s) => alive(s.pid))).toEqual([]);
    expect(stderr).toContain('pipeline: stopped');
  });
});
