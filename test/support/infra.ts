/**
 * Real infrastructure for the integration tests: a Kafka broker and a Redis server.
 *
 * Two ways to get them:
 *  - 'local' (implemented): Kafka from Maven Central jars run with the machine's java
 *    (deploy/kafka/fetch.sh + start.sh + stop.sh), Redis from the machine's redis-server.
 *    Needs no Docker engine.
 *  - 'docker': testcontainers runs the images docker-compose.yml runs (test/support/docker-infra.ts,
 *    loaded only on this path), on the engine testcontainers finds (DOCKER_HOST, or the default
 *    socket). chooseInfra() picks it wherever a Docker engine answers.
 *
 * Environment:
 *  - KAFKA_BROKERS   use this broker (host:port[,host:port]) instead of starting one
 *  - REDIS_URL       use this Redis (redis://[:password@]host:port[/db]) instead of 6379 / a new one
 *  - DUMPSTREAM_INFRA=local|docker   overrides chooseInfra()
 *  - DUMPSTREAM_KAFKA_IMAGE, DUMPSTREAM_REDIS_IMAGE, DUMPSTREAM_DOCKER_NETWORK: see docker-infra.ts
 *  - DUMPSTREAM_PROMETHEUS_IMAGE: Prometheus and promtool where the machine has none, on the
 *    Docker path (default prom/prometheus:v2.53.0, docker-compose.yml's)
 *  - KAFKA_VERSION, DUMPSTREAM_CACHE, KAFKA_* ... are passed through to deploy/kafka/*.sh
 *
 * Every failure is an InfraError whose message starts with one summary line (no stack trace);
 * a broker that fails to start adds the last lines of its log below that line.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

export type Infra = 'local' | 'docker';

export interface KafkaHandle {
  /** bootstrap address(es), e.g. "127.0.0.1:40123" */
  brokers: string;
  stop(): Promise<void>;
}

export interface RedisHandle {
  /** e.g. "redis://127.0.0.1:6379" */
  url: string;
  stop(): Promise<void>;
}

/** An infrastructure failure: `message` is meant to be shown as is; there is no useful stack. */
export class InfraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfraError';
    // Jest and Node print `stack`; keep it to the message so the summary line stays readable.
    this.stack = `${this.name}: ${message}`;
  }
}

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const KAFKA_DIR = path.join(REPO_ROOT, 'deploy', 'kafka');

// ------------------------------------------------------------------------------------------
// choosing
// ------------------------------------------------------------------------------------------

/**
 * 'docker' when a Docker engine answers (`docker info` succeeds), else 'local'.
 * DUMPSTREAM_INFRA=local|docker overrides the probe.
 */
export async function chooseInfra(): Promise<Infra> {
  const forced = process.env.DUMPSTREAM_INFRA?.trim();
  if (forced) {
    if (forced === 'local' || forced === 'docker') return forced;
    throw new InfraError(`DUMPSTREAM_INFRA must be 'local' or 'docker', got '${forced}'`);
  }
  if (!onPath('docker')) return 'local';
  const r = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
  return r.code === 0 ? 'docker' : 'local';
}

/**
 * chooseInfra() for code that cannot wait (a test file deciding at load time, a synchronous
 * helper): the same answer, with `docker info` run synchronously.
 */
export function chooseInfraSync(): Infra {
  const forced = process.env.DUMPSTREAM_INFRA?.trim();
  if (forced === 'local' || forced === 'docker') return forced;
  if (forced) throw new InfraError(`DUMPSTREAM_INFRA must be 'local' or 'docker', got '${forced}'`);
  if (!onPath('docker')) return 'local';
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0 ? 'docker' : 'local';
}

/** The image the tests run Prometheus and promtool from when the machine has neither (the Docker path). */
export function prometheusImage(): string {
  return process.env.DUMPSTREAM_PROMETHEUS_IMAGE?.trim() || 'prom/prometheus:v2.53.0';
}

// ------------------------------------------------------------------------------------------
// Kafka
// ------------------------------------------------------------------------------------------

/**
 * A Kafka broker for the tests.
 *  - KAFKA_BROKERS set: checks that it answers a metadata request; stop() does nothing.
 *  - infra 'docker': a container of DUMPSTREAM_KAFKA_IMAGE (docker-infra.ts); stop() removes it.
 *  - else (infra 'local'): deploy/kafka/fetch.sh then start.sh; stop() runs stop.sh.
 */
export async function startKafka(infra: Infra = 'local'): Promise<KafkaHandle> {
  const given = process.env.KAFKA_BROKERS?.trim();
  if (given) {
    await checkKafka(given, 10_000).catch((e: unknown) => {
      throw new InfraError(`KAFKA_BROKERS=${given} does not answer: ${messageOf(e)}`);
    });
    return { brokers: given, stop: async () => {} };
  }
  if (infra === 'docker') return startKafkaDocker();
  return startKafkaLocal();
}

async function startKafkaLocal(): Promise<KafkaHandle> {
  if (!onPath('java')) {
    throw new InfraError(
      'java not found on PATH: the local Kafka broker needs a JDK 17+ (Debian: apt-get install -y openjdk-17-jdk-headless), or set KAFKA_BROKERS',
    );
  }
  if (!onPath('bash')) throw new InfraError('bash not found on PATH: deploy/kafka/*.sh need it');

  // fetch.sh is a no-op (a few ms) once the jars are cached; a first fetch takes ~10 s.
  const fetched = await run('bash', [path.join(KAFKA_DIR, 'fetch.sh')], { timeoutMs: 15 * 60_000 });
  if (fetched.code !== 0) {
    throw new InfraError(scriptFailure('fetching the Kafka jars (deploy/kafka/fetch.sh) failed', fetched));
  }

  const startTimeoutS = Number(process.env.KAFKA_START_TIMEOUT) || 60;
  const startOnce = (): Promise<RunResult> =>
    run('bash', [path.join(KAFKA_DIR, 'start.sh')], {
      timeoutMs: (startTimeoutS + 60) * 1000,
      // the watchdog in start.sh stops the broker if this process dies without calling stop()
      env: { KAFKA_PARENT_PID: String(process.pid) },
    });
  let started = await startOnce();
  // start.sh picks free ports and then lets Kafka bind them: another process may take one in
  // between. Try once more (with new ports) when that is what happened.
  if (started.code !== 0 && !process.env.KAFKA_PORT && /BindException|Address already in use/.test(started.stderr)) {
    started = await startOnce();
  }
  const vars = parseVars(started.stdout);
  const brokers = vars.KAFKA_BROKERS;
  const stateDir = vars.KAFKA_STATE_DIR;
  if (started.code !== 0 || !brokers || !stateDir) {
    throw new InfraError(scriptFailure('the local Kafka broker failed to start (deploy/kafka/start.sh)', started));
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= run('bash', [path.join(KAFKA_DIR, 'stop.sh'), stateDir], { timeoutMs: 60_000 }).then((r) => {
      if (r.code !== 0) throw new InfraError(scriptFailure('stopping the local Kafka broker failed', r));
    });
    return stopping;
  };
  return { brokers, stop };
}

/** Resolves once the cluster answers a metadata request with at least one broker. */
export async function checkKafka(brokers: string, timeoutMs: number): Promise<void> {
  const kafka = new Kafka({
    clientId: 'dumpstream-infra-check',
    brokers: brokers.split(',').map((b) => b.trim()).filter(Boolean),
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: Math.min(timeoutMs, 5000),
    retry: { retries: 0 },
  });
  const deadline = Date.now() + timeoutMs;
  let last: unknown = new Error('no attempt');
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
      last = new Error('metadata lists no broker');
    } catch (e) {
      last = e;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await sleep(250);
  }
  throw last;
}

/** Kafka in a container (testcontainers), on free ports of this machine; stop() removes it. */
async function startKafkaDocker(): Promise<KafkaHandle> {
  const { startKafkaContainer } = await loadDockerInfra();
  const [port, controllerPort] = [await freePort(), await freePort()];
  const kafka = await startKafkaContainer(port, controllerPort).catch((e: unknown) => {
    throw new InfraError(`the Docker path: ${messageOf(e)} (or set DUMPSTREAM_INFRA=local)`);
  });
  await checkKafka(kafka.address, 60_000).catch(async (e: unknown) => {
    await kafka.stop().catch(() => {});
    throw new InfraError(`the Kafka container on ${kafka.address} does not answer: ${messageOf(e)}`);
  });
  return { brokers: kafka.address, stop: kafka.stop };
}

/** test/support/docker-infra.ts: testcontainers is loaded only where the Docker path runs. */
// require, not import(): under Node16 module settings import() stays a native ESM import, which
// would bypass jest's TypeScript transform.
async function loadDockerInfra(): Promise<typeof import('./docker-infra')> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./docker-infra') as typeof import('./docker-infra');
}

// ------------------------------------------------------------------------------------------
// Redis
// ------------------------------------------------------------------------------------------

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * A Redis server for the tests.
 *  - REDIS_URL set: checks that it answers PING; stop() does nothing.
 *  - infra 'docker': a container of DUMPSTREAM_REDIS_IMAGE (docker-infra.ts); stop() removes it.
 *  - else 127.0.0.1:6379 if it answers PING (shared: use your own key prefixes); stop() does nothing.
 *  - else starts `redis-server` on a free loopback port, keeping nothing on disk; stop() kills it.
 */
export async function startRedis(infra: Infra = 'local'): Promise<RedisHandle> {
  const given = process.env.REDIS_URL?.trim();
  if (given) {
    await redisPing(given, 5000).catch((e: unknown) => {
      throw new InfraError(`REDIS_URL=${given} does not answer PING: ${messageOf(e)}`);
    });
    return { url: given, stop: async () => {} };
  }
  if (infra === 'docker') return startRedisDocker();
  if (await redisPing(DEFAULT_REDIS_URL, 1500).then(() => true, () => false)) {
    return { url: DEFAULT_REDIS_URL, stop: async () => {} };
  }
  return startPrivateRedis();
}

/**
 * Always a new `redis-server` of its own on a free loopback port, nothing kept on disk
 * (for tests that need to FLUSHALL, restart or kill their Redis); stop() kills it.
 */
export async function startPrivateRedis(): Promise<RedisHandle> {
  if (!onPath('redis-server')) {
    throw new InfraError(
      'nothing answers on 127.0.0.1:6379 and redis-server is not on PATH: apt-get install -y redis-server (or set REDIS_URL)',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dumpstream-redis.'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (b: Buffer): void => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (spawnError || child.exitCode !== null || child.signalCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new InfraError(
        `redis-server on port ${port} exited during startup${spawnError ? `: ${spawnError.message}` : ''}\n${tail(output, 10)}`,
      );
    }
    if (await redisPing(url, 500).then(() => true, () => false)) break;
    if (Date.now() > deadline) {
      await killChild(child, exited);
      rmSync(dir, { recursive: true, force: true });
      throw new InfraError(`redis-server on port ${port} did not answer PING within 10 s\n${tail(output, 10)}`);
    }
    await sleep(50);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= killChild(child, exited).finally(() => rmSync(dir, { recursive: true, force: true }));
    return stopping;
  };
  return { url, stop };
}

/** Redis in a container (testcontainers), on a free port of this machine; stop() removes it. */
async function startRedisDocker(): Promise<RedisHandle> {
  const { startRedisContainer } = await loadDockerInfra();
  const redis = await startRedisContainer(await freePort()).catch((e: unknown) => {
    throw new InfraError(`the Docker path: ${messageOf(e)} (or set DUMPSTREAM_INFRA=local)`);
  });
  const url = `redis://${redis.address}`;
  await redisPing(url, 10_000).catch(async (e: unknown) => {
    await redis.stop().catch(() => {});
    throw new InfraError(`the Redis container on ${redis.address} does not answer PING: ${messageOf(e)}`);
  });
  return { url, stop: redis.stop };
}

async function killChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), 5000);
    }),
  ]).finally(() => clearTimeout(timer));
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

export type RedisReply = string | number | null | RedisReply[];

/**
 * One Redis command over a raw RESP connection (AUTH and SELECT from the URL first).
 * Small on purpose: enough for health checks and smoke tests, not a client library.
 */
export async function redisCommand(url: string, args: string[], timeoutMs = 5000): Promise<RedisReply> {
  const u = new URL(url);
  if (u.protocol !== 'redis:') throw new Error(`only redis:// URLs are supported, got ${u.protocol}`);
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(u.port) || 6379;
  const pre: string[][] = [];
  if (u.password) {
    const pw = decodeURIComponent(u.password);
    pre.push(u.username ? ['AUTH', decodeURIComponent(u.username), pw] : ['AUTH', pw]);
  }
  const db = u.pathname.replace(/^\//, '');
  if (db) pre.push(['SELECT', db]);
  const commands = [...pre, args];

  return new Promise<RedisReply>((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buf: Buffer = Buffer.alloc(0);
    const replies: RedisReply[] = [];
    const finish = (err: Error | null, value?: RedisReply): void => {
      socket.destroy();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value ?? null);
    };
    const timer = setTimeout(() => finish(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', (e) => finish(e));
    socket.once('connect', () => socket.write(commands.map(encodeCommand).join('')));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        let parsed: { value: RedisReply; rest: Buffer } | undefined;
        try {
          parsed = parseReply(buf);
        } catch (e) {
          finish(e as Error);
          return;
        }
        if (!parsed) return;
        buf = parsed.rest;
        replies.push(parsed.value);
        if (replies.length === commands.length) {
          finish(null, parsed.value);
          return;
        }
      }
    });
    socket.once('close', () => finish(new Error(`connection to ${host}:${port} closed before a reply`)));
  });
}

/** Resolves when the server at `url` answers PING with PONG. */
export async function redisPing(url: string, timeoutMs: number): Promise<void> {
  const reply = await redisCommand(url, ['PING'], timeoutMs);
  if (reply !== 'PONG') throw new Error(`unexpected reply to PING: ${JSON.stringify(reply)}`);
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

class RedisServerError extends Error {}

/** Parses one RESP2 reply from the front of `buf`; undefined when more bytes are needed. */
function parseReply(buf: Buffer): { value: RedisReply; rest: Buffer } | undefined {
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[0] ?? 0);
  const line = buf.subarray(1, eol).toString();
  const after = buf.subarray(eol + 2);
  switch (type) {
    case '+':
      return { value: line, rest: after };
    case '-':
      throw new RedisServerError(line);
    case ':':
      return { value: Number(line), rest: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, rest: after };
      if (after.length < len + 2) return undefined;
      return { value: after.subarray(0, len).toString(), rest: after.subarray(len + 2) };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, rest: after };
      const items: RedisReply[] = [];
      let rest = after;
      for (let i = 0; i < n; i++) {
        const p = parseReply(rest);
        if (!p) return undefined;
        items.push(p.value);
        rest = p.rest;
      }
      return { value: items, rest };
    }
    default:
      throw new Error(`not a RESP reply (starts with ${JSON.stringify(type)})`);
  }
}

// ------------------------------------------------------------------------------------------
// helpers
// ------------------------------------------------------------------------------------------

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

/** Runs a command to completion; never rejects (failures are in the result). */
function run(cmd: string, args: string[], opts: { timeoutMs: number; env?: Record<string, string> }): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs, killSignal: 'SIGTERM', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...opts.env } },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean }) | null;
        let code: number | null = 0;
        let error: string | undefined;
        if (e) {
          code = typeof e.code === 'number' ? e.code : null;
          if (e.killed) error = `timed out after ${Math.round(opts.timeoutMs / 1000)} s`;
          else if (typeof e.code === 'string') error = `${e.code}: ${e.message}`;
        }
        resolve({ code, stdout: String(stdout), stderr: String(stderr), error });
      },
    );
  });
}

/** One summary line (the script's own last "x.sh: ..." line if any), then the log lines it printed. */
function scriptFailure(what: string, r: RunResult): string {
  const lines = r.stderr
    .replace(/\u001b\[[0-9;]*m/g, '') // ANSI colours
    .split('\n')
    .map((l) => (l.length > 400 ? `${l.slice(0, 400)}...` : l.trimEnd()))
    .filter(Boolean);
  const own = lines.filter((l) => /^(fetch|start|stop)\.sh: /.test(l));
  const reason = r.error ?? own.at(-1)?.replace(/^(fetch|start|stop)\.sh: /, '') ?? `exit code ${r.code}`;
  const detail = lines.filter((l) => !own.includes(l)).slice(-20);
  return [`${what}: ${reason}`, ...detail.map((l) => `  | ${l}`)].join('\n');
}

function parseVars(stdout: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) vars[m[1]] = m[2];
  }
  return vars;
}

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, cmd), fsConstants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function tail(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .map((l) => `  | ${l}`)
    .join('\n');
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
