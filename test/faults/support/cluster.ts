/**
 * The infrastructure a fault scenario owns, so that it may break it: a Kafka broker of its own
 * and a Redis server of its own on a fixed port (stopped, killed, paused, flushed, started again
 * on the same port, keeping their data). On the infra chooseInfra() picks, as the integration
 * tests do:
 *  - 'local': deploy/kafka/start.sh (restarted with restart.sh) and the machine's redis-server,
 *    as processes that get the signals;
 *  - 'docker': containers of the same images as the integration tests' (test/support/docker-infra.ts),
 *    stopped with `docker stop` (SIGTERM), killed with `docker kill`, frozen with `docker pause`
 *    and started again with `docker start`, which keeps their file systems and ports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkKafka, chooseInfra, redisCommand, redisPing } from '../../support/infra';
import type { DockerService } from '../../support/docker-infra';

/** What a scenario does to its broker. */
export interface FaultBroker {
  readonly brokers: string;
  /** Stops the broker (SIGTERM, or SIGKILL with `kill`), waits `downMs`, starts it again with its data. */
  restart(options?: { kill?: boolean; downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** What a scenario does to its Redis. */
export interface FaultRedis {
  readonly port: number;
  readonly url: string;
  startAgain(): Promise<void>;
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  flushAll(): Promise<void>;
  command(args: string[]): Promise<unknown>;
  destroy(): Promise<void>;
}

/** A broker of the scenario's own, on chooseInfra()'s infra. */
export async function startFaultBroker(): Promise<FaultBroker> {
  return (await chooseInfra()) === 'docker' ? DockerKafkaBroker.start() : KafkaBroker.start();
}

/** A Redis of the scenario's own, on chooseInfra()'s infra. */
export async function startFaultRedis(options: RedisServerOptions = {}): Promise<FaultRedis> {
  return (await chooseInfra()) === 'docker' ? DockerRedisServer.start(options) : RedisServer.start(options);
}

// require, not import(): see loadDockerInfra in test/support/infra.ts
function dockerInfra(): typeof import('../../support/docker-infra') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../../support/docker-infra') as typeof import('../../support/docker-infra');
}

const KAFKA_DIR = path.resolve(__dirname, '..', '..', '..', 'deploy', 'kafka');

function sh(script: string, args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(KAFKA_DIR, script), ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${script} ${args.join(' ')} failed: ${err.message}\n${String(stderr).split('\n').slice(-15).join('\n')}`));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function vars(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
}

/** A single-node Kafka of the scenario's own, from deploy/kafka's scripts. */
export class KafkaBroker implements FaultBroker {
  private constructor(
    readonly brokers: string,
    private readonly stateDir: string,
  ) {}

  /** Starts a new broker (fresh storage, free ports); a watchdog stops it if this process dies. */
  static async start(): Promise<KafkaBroker> {
    const env = { KAFKA_PARENT_PID: String(process.pid) };
    let out;
    try {
      out = await sh('start.sh', [], env);
    } catch (e) {
      // start.sh picks free ports, then Kafka binds them: another process may win the race.
      if (!/BindException|Address already in use/.test((e as Error).message)) throw e;
      out = await sh('start.sh', [], env);
    }
    const v = vars(out.stdout);
    if (!v.KAFKA_BROKERS || !v.KAFKA_STATE_DIR) throw new Error(`start.sh printed no address:\n${out.stderr}`);
    return new KafkaBroker(v.KAFKA_BROKERS, v.KAFKA_STATE_DIR);
  }

  /** Stops the broker (SIGTERM, or SIGKILL with `kill`), waits `downMs`, starts it again with its data. */
  async restart(options: { kill?: boolean; downMs?: number } = {}): Promise<void> {
    const args = [this.stateDir];
    if (options.kill) args.push('--kill');
    if (options.downMs) args.push('--down', String(options.downMs / 1000));
    await sh('restart.sh', args, { KAFKA_PARENT_PID: String(process.pid) });
  }

  async stop(): Promise<void> {
    await sh('stop.sh', [this.stateDir]).catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until nothing listens on the port any more (a stopped server has let it go). */
async function portFree(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const inUse = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (!inUse || Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RedisServerOptions {
  /** requirepass: clients must AUTH with it. */
  password?: string;
  /** Append-only file with fsync on every write, so a stop and start keeps the data (default true). */
  persistent?: boolean;
}

/**
 * A redis-server of the scenario's own on a fixed loopback port. It can be stopped (SIGTERM) or
 * killed (SIGKILL) and started again on the same port; with `persistent` (default) it keeps its
 * data across that, as a production Redis with AOF does.
 */
export class RedisServer implements FaultRedis {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;
  private readonly dir: string;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'dumpstream-faults-redis.'));
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const r = new RedisServer(await freePort(), options);
    await r.startAgain();
    return r;
  }

  /** redis://[:password@]127.0.0.1:port */
  get url(): string {
    return `redis://${this.options.password ? `:${encodeURIComponent(this.options.password)}@` : ''}127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server (again) on its port; resolves once it answers PING. */
  async startAgain(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) throw new Error('redis-server is running already');
    await portFree(this.port);
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, '--daemonize', 'no'];
    args.push('--appendonly', this.options.persistent === false ? 'no' : 'yes', '--appendfsync', 'always');
    if (this.options.password) args.push('--requirepass', this.options.password);
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
    this.paused = false;
    const until = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited on start:\n${this.output}`);
      if (await redisPing(this.url, 500).then(() => true, () => false)) return;
      if (Date.now() > until) throw new Error(`redis-server did not answer PING:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (a clean shutdown, the AOF flushed) or SIGKILL; resolves when the process is gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    if (this.paused) c.kill('SIGCONT');
    c.kill(signal);
    await this.exited;
  }

  /** SIGSTOP: the port stays open and connections hang, as with a frozen host. */
  async pause(): Promise<void> {
    this.child?.kill('SIGSTOP');
    this.paused = true;
  }

  async resume(): Promise<void> {
    this.child?.kill('SIGCONT');
    this.paused = false;
  }

  /** FLUSHALL: every key gone at once (the partial graphs of dumps in flight with them). */
  async flushAll(): Promise<void> {
    await redisCommand(this.url, ['FLUSHALL']);
  }

  async command(args: string[]): Promise<unknown> {
    return redisCommand(this.url, args);
  }

  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A single-node Kafka of the scenario's own in a container (the integration tests' image). */
export class DockerKafkaBroker implements FaultBroker {
  private constructor(private readonly service: DockerService) {}

  get brokers(): string {
    return this.service.address;
  }

  static async start(): Promise<DockerKafkaBroker> {
    const [port, controllerPort] = [await freePort(), await freePort()];
    const service = await dockerInfra().startKafkaContainer(port, controllerPort);
    const broker = new DockerKafkaBroker(service);
    await checkKafka(service.address, 60_000).catch(async (e: unknown) => {
      await service.stop().catch(() => undefined);
      throw e;
    });
    return broker;
  }

  /** `docker stop` (SIGTERM) or `docker kill`, down `downMs`, `docker start`; resolves once it answers again. */
  async restart(options: { kill?: boolean; downMs?: number } = {}): Promise<void> {
    await this.service.control.halt(options.kill ? 'SIGKILL' : 'SIGTERM');
    if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
    await this.service.control.start();
    await checkKafka(this.service.address, 120_000);
  }

  async stop(): Promise<void> {
    await this.service.stop().catch(() => undefined);
  }
}

/**
 * A Redis of the scenario's own in a container (the integration tests' image), with an
 * append-only file inside the container unless `persistent: false`: `docker stop` and `docker
 * start` keep its data, as a stop and start of the process does on the local path.
 */
export class DockerRedisServer implements FaultRedis {
  private running = true;
  private paused = false;

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
    private readonly service: DockerService,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<DockerRedisServer> {
    const port = await freePort();
    const service = await dockerInfra().startRedisContainer(port, { password: options.password, appendOnly: options.persistent !== false });
    const r = new DockerRedisServer(port, options, service);
    await r.answers().catch(async (e: unknown) => {
      await service.stop().catch(() => undefined);
      throw e;
    });
    return r;
  }

  get url(): string {
    const [host] = this.service.address.split(':');
    return `redis://${this.options.password ? `:${encodeURIComponent(this.options.password)}@` : ''}${host}:${this.port}`;
  }

  private async answers(): Promise<void> {
    const until = Date.now() + 30_000;
    for (;;) {
      if (await redisPing(this.url, 500).then(() => true, () => false)) return;
      if (Date.now() > until) throw new Error(`the Redis container on port ${this.port} did not answer PING`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async startAgain(): Promise<void> {
    if (this.running) throw new Error('the Redis container is running already');
    await this.service.control.start();
    this.running = true;
    this.paused = false;
    await this.answers();
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    if (this.paused) await this.resume();
    await this.service.control.halt(signal);
    this.running = false;
  }

  async pause(): Promise<void> {
    await this.service.control.pause();
    this.paused = true;
  }

  async resume(): Promise<void> {
    await this.service.control.unpause();
    this.paused = false;
  }

  async flushAll(): Promise<void> {
    await redisCommand(this.url, ['FLUSHALL']);
  }

  async command(args: string[]): Promise<unknown> {
    return redisCommand(this.url, args);
  }

  async destroy(): Promise<void> {
    await this.service.stop();
  }
}
