/**
 * The machinery of the compose test (stack.test.ts): two private Docker engines
 * (test/support/docker-engine.sh), the images built without a registry (build-images.sh),
 * `docker-compose up` of docker-compose.yml in a network namespace of its own, clients run inside
 * that namespace, and a teardown that leaves no container, daemon, mount or namespace behind.
 *
 *  - the builder engine runs on this machine's network with --bridge=none: `docker build
 *    --network host` reaches apt and npm;
 *  - the stack engine runs in the namespace: Compose's bridge network and published ports (8080,
 *    9094, 9090) exist only there, so clients run there too (nsenter --net).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const ENGINE = path.join(ROOT, 'test', 'support', 'docker-engine.sh');
const BUILD = path.join(__dirname, 'build-images.sh');
/** The stand-ins for registry images, and the compose services the test runs (all but Grafana). */
export const OVERRIDE = path.join(__dirname, 'standins.yml');
export const SERVICES = ['kafka', 'redis', 'ingest', 'parse', 'detect', 'prometheus'];
export const IMAGES = ['dumpstream:local', 'dumpstream-standin/kafka:3.9.0', 'dumpstream-standin/redis:7', 'dumpstream-standin/prometheus:2'];
const PROJECT = 'dumpstream-composetest';

/** A failure of the machinery: its message is the report (jest shows no code frame for it). */
export class StackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackError';
    this.stack = `${this.name}: ${message}`;
  }
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never rejects. */
export function sh(cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { cwd: ROOT, env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + (err && code === null ? `\n${err.message}` : '') });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The last lines of a failed command, for an error message. */
export function tailOf(r: Result, n = 15): string {
  return `${r.stdout}\n${r.stderr}`
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .map((l) => `  | ${l}`)
    .join('\n');
}

/** What the test needs on this machine, as one line naming what is missing; null when all is there. */
export function missingPrerequisite(): string | null {
  if (process.platform !== 'linux') return 'the compose test runs on Linux only';
  if (process.getuid?.() !== 0) return 'the compose test runs as root (it starts its own Docker engines)';
  const missing = ['dockerd', 'docker', 'docker-compose', 'debootstrap', 'ip', 'nsenter'].filter((c) => !onPath(c));
  if (missing.length) return `not installed: ${missing.join(', ')} (Debian: apt-get install -y docker.io docker-compose debootstrap iproute2)`;
  return null;
}

export interface Engine {
  host: string;
  state: string;
  netns?: string;
}

/** Where the engines keep their images between runs (docker-engine.sh --data-root). */
export const ENGINE_CACHE = path.join(process.env.DUMPSTREAM_CACHE ?? path.join(os.homedir(), '.cache', 'dumpstream'), 'docker');

/**
 * Starts a private engine (docker-engine.sh) keeping its images in ENGINE_CACHE/NAME-root; a
 * watchdog stops it if this process dies first.
 */
export async function startEngine(name: string, netns?: string): Promise<Engine> {
  const state = mkdtempSync(`/tmp/dsc-${name}.`);
  const dataRoot = path.join(ENGINE_CACHE, `${name}-root`);
  const args = ['start', state, '--parent', String(process.pid), '--data-root', dataRoot, ...(netns ? ['--netns', netns] : [])];
  const r = await sh(ENGINE, args, { timeoutMs: 120_000 });
  const host = /^DOCKER_HOST=(.+)$/m.exec(r.stdout)?.[1];
  if (r.code !== 0 || !host) throw new StackError(`starting the ${name} Docker engine failed\n${tailOf(r)}`);
  return { host, state, netns };
}

/** Stops an engine, its containers, mounts and namespace; never rejects (returns what failed). */
export async function stopEngine(engine: Engine | undefined): Promise<string | null> {
  if (!engine) return null;
  const r = await sh(ENGINE, ['stop', engine.state], { timeoutMs: 120_000 });
  return r.code === 0 ? null : `stopping the engine in ${engine.state} failed\n${tailOf(r)}`;
}

/** Builds every image (build-images.sh) on `engine`. */
export async function buildImages(engine: Engine): Promise<string> {
  const r = await sh('bash', [BUILD], { env: { DOCKER_HOST: engine.host }, timeoutMs: 20 * 60_000 });
  if (r.code !== 0) throw new StackError(`building the images failed\n${tailOf(r, 30)}`);
  return r.stderr;
}

/**
 * `docker save | docker load` of the images `to` lacks or holds in another version (the stack
 * engine keeps its images too); returns the names it moved.
 */
export async function moveImages(from: Engine, to: Engine): Promise<string[]> {
  const id = async (e: Engine, image: string): Promise<string> => (await sh('docker', ['-H', e.host, 'image', 'inspect', '-f', '{{.Id}}', image])).stdout.trim();
  const stale: string[] = [];
  for (const image of IMAGES) if ((await id(from, image)) !== (await id(to, image))) stale.push(image);
  if (stale.length === 0) return [];
  const r = await sh('bash', ['-o', 'pipefail', '-c', `docker -H "$FROM" save ${stale.join(' ')} | docker -H "$TO" load -q`], {
    env: { FROM: from.host, TO: to.host },
    timeoutMs: 10 * 60_000,
  });
  if (r.code !== 0) throw new StackError(`moving the images between engines failed\n${tailOf(r)}`);
  await sh('docker', ['-H', to.host, 'image', 'prune', '-f']);
  return stale;
}

/** docker-compose (v1, Debian's) or `docker compose` on the stack engine, with the stand-ins. */
export function compose(engine: Engine, args: string[], timeoutMs = 300_000): Promise<Result> {
  const files = ['-p', PROJECT, '-f', path.join(ROOT, 'docker-compose.yml'), '-f', OVERRIDE];
  return sh('docker-compose', [...files, ...args], { env: { DOCKER_HOST: engine.host, COMPOSE_INTERACTIVE_NO_CLI: '1' }, timeoutMs });
}

/** Runs a command inside the engine's network namespace (where the published ports are). */
export function inNetns(engine: Engine, cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Result> {
  if (!engine.netns) throw new StackError('this engine has no network namespace of its own');
  return sh('nsenter', [`--net=/run/netns/${engine.netns}`, cmd, ...args], opts);
}

/** Starts a long-running command inside the namespace (e.g. `dumpstream watch`); collects stdout. */
export function spawnInNetns(engine: Engine, cmd: string, args: string[], env: Record<string, string> = {}): { child: ChildProcess; output: () => string } {
  const child = spawn('nsenter', [`--net=/run/netns/${engine.netns}`, cmd, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', () => {});
  return { child, output: () => out };
}

/** GET a JSON document from inside the namespace (node's fetch, as a user's tool would). */
export async function getJson(engine: Engine, url: string): Promise<unknown> {
  const script = `fetch(process.argv[1]).then(async (r) => { if (!r.ok) throw new StackError(r.status + ' ' + r.statusText); process.stdout.write(await r.text()); }).catch((e) => { console.error(e.message); process.exit(1); })`;
  const r = await inNetns(engine, process.execPath, ['-e', script, url], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new StackError(`GET ${url}: ${r.stderr.trim().split('\n').at(-1)}`);
  return JSON.parse(r.stdout);
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    }
    if (Date.now() > deadline) throw new StackError(`${what}: not within ${Math.round(timeoutMs / 1000)} s${last ? ` (last: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Namespaces, daemons and mounts that an engine of this test would leave: empty when clean. */
export async function leftovers(engines: Engine[]): Promise<string[]> {
  const left: string[] = [];
  const netns = (await sh('ip', ['netns', 'list'])).stdout;
  for (const e of engines) {
    if (e.netns && new RegExp(`^${e.netns}\\b`, 'm').test(netns)) left.push(`network namespace ${e.netns}`);
    const procs = (await sh('pgrep', ['-af', `${e.state}/`])).stdout.trim();
    if (procs) left.push(`processes: ${procs.split('\n').join('; ')}`);
    const mounts = (await sh('grep', ['-c', `${e.state}/`, '/proc/self/mountinfo'])).stdout.trim();
    if (mounts && mounts !== '0') left.push(`${mounts} mounts under ${e.state}`);
  }
  return left;
}

export function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(path.join(dir, cmd), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
