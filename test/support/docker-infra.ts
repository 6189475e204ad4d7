/**
 * The Docker path of the test infrastructure (infra.ts loads this module only on that path):
 * a Kafka broker and a Redis server as testcontainers GenericContainers of the images
 * docker-compose.yml runs, so the tests and the Compose stack use the same software.
 *
 * Environment:
 *  - DUMPSTREAM_KAFKA_IMAGE   default apache/kafka:3.9.0 (any image that takes the official
 *                             image's KAFKA_* variables, e.g. the stand-in of deploy/docker/standins/kafka)
 *  - DUMPSTREAM_REDIS_IMAGE   default redis:7-alpine
 *  - DUMPSTREAM_DOCKER_NETWORK=host|bridge   default: bridge when the engine has a `bridge`
 *                             network, else host (an engine started with --bridge=none)
 *  - testcontainers' own: DOCKER_HOST, TESTCONTAINERS_HOST_OVERRIDE, TESTCONTAINERS_RYUK_DISABLED
 *
 * Each container listens on a port picked free on this machine and published as the same port,
 * so a broker can advertise its address before it starts, in either network mode. Every
 * container has an explicit wait strategy (a log line), then a real request checks it.
 */
import { GenericContainer, Wait, getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';

export const DEFAULT_KAFKA_IMAGE = 'apache/kafka:3.9.0';
export const DEFAULT_REDIS_IMAGE = 'redis:7-alpine';

export type NetworkMode = 'host' | 'bridge';

export interface DockerService {
  /** host:port to connect to from this process */
  address: string;
  /** Removes the container (whatever state it is in). */
  stop(): Promise<void>;
  /**
   * For the fault scenarios (test/faults), which break what they run on: the container is
   * stopped, killed, paused and started again as a process would be, keeping its file system
   * (a broker's log, Redis' append-only file) and its port.
   */
  control: DockerControl;
}

export interface DockerControl {
  /** `docker stop` (SIGTERM, SIGKILL after 10 s) or `docker kill` (SIGKILL); resolves once it has exited. */
  halt(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** `docker start` again (the same container: its data and its port). */
  start(): Promise<void>;
  /** `docker pause` (the cgroup freezer: the port stays open, nothing answers), `docker unpause`. */
  pause(): Promise<void>;
  unpause(): Promise<void>;
}

/**
 * Where the engine is and how containers reach us; one line that says why when it cannot.
 * `sharesLoopback`: a container on the host network shares this process's loopback (an engine on
 * this Linux machine), so it can reach what the tests serve on 127.0.0.1, where a bridged one
 * cannot (host.docker.internal is the bridge's own address there, not this loopback).
 */
export async function engine(): Promise<{ host: string; network: NetworkMode; sharesLoopback: boolean }> {
  let client: Awaited<ReturnType<typeof getContainerRuntimeClient>>;
  try {
    client = await getContainerRuntimeClient();
  } catch (e) {
    throw new Error(`no Docker engine answers (testcontainers: ${firstLine(e)})`);
  }
  const forced = process.env.DUMPSTREAM_DOCKER_NETWORK?.trim();
  if (forced && forced !== 'host' && forced !== 'bridge') {
    throw new Error(`DUMPSTREAM_DOCKER_NETWORK must be 'host' or 'bridge', got '${forced}'`);
  }
  let network: NetworkMode = forced === 'host' || forced === 'bridge' ? forced : 'bridge';
  if (!forced) {
    const bridge = await client.network.getById('bridge').inspect().then(
      () => true,
      () => false,
    );
    network = bridge ? 'bridge' : 'host';
  }
  return { host: client.info.containerRuntime.host, network, sharesLoopback: sharesLoopback(client.info.containerRuntime.operatingSystem) };
}

/**
 * An engine on this Linux machine, reached by a unix socket: not Docker Desktop (its host network
 * is its VM's) nor rootless Docker (its host network is a namespace of its own, under /run/user),
 * nor an engine elsewhere (tcp://, ssh://). Assumes the engine runs in this process's network
 * namespace, as a local engine does (the tests' own, docker-engine.sh --netns, run jest there too).
 */
function sharesLoopback(operatingSystem: string): boolean {
  if (process.platform !== 'linux' || /docker desktop/i.test(operatingSystem)) return false;
  const dockerHost = process.env.DOCKER_HOST?.trim();
  if (!dockerHost) return true;
  return dockerHost.startsWith('unix://') && !/^unix:\/\/\/run\/user\//.test(dockerHost);
}

/**
 * Runs `container` on `port` (the same number inside and out): host networking, or a published
 * port on the bridge.
 */
export function onPort(container: GenericContainer, network: NetworkMode, port: number): GenericContainer {
  return network === 'host' ? container.withNetworkMode('host') : container.withExposedPorts({ container: port, host: port });
}

/** A one-node KRaft Kafka broker (combined broker and controller) on `port`. */
export async function startKafkaContainer(port: number, controllerPort: number): Promise<DockerService> {
  const { host, network } = await engine();
  const image = process.env.DUMPSTREAM_KAFKA_IMAGE?.trim() || DEFAULT_KAFKA_IMAGE;
  // On the host network the broker binds loopback only: nothing of the tests is exposed.
  const bind = network === 'host' ? '127.0.0.1' : '0.0.0.0';
  const container = onPort(new GenericContainer(image), network, port)
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://${bind}:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${port}`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: `1@127.0.0.1:${controllerPort}`,
      KAFKA_LOG_DIRS: '/tmp/kraft-combined-logs',
      // as the local broker (deploy/kafka/start.sh): topics are created by the tests
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_NUM_PARTITIONS: '1',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS: '1000',
      KAFKA_HEAP_OPTS: '-Xms64m -Xmx512m',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(180_000);
  const started = await startOrExplain(container, `Kafka (${image})`);
  return service(`${host}:${port}`, started);
}

export interface RedisContainerOptions {
  /** requirepass: clients must AUTH with it. */
  password?: string;
  /** An append-only file fsynced on every write (in the container's /data), so a stop and start keeps the data. */
  appendOnly?: boolean;
}

/** A Redis server on `port`; it keeps nothing on disk unless `appendOnly`. */
export async function startRedisContainer(port: number, options: RedisContainerOptions = {}): Promise<DockerService> {
  const { host, network } = await engine();
  const image = process.env.DUMPSTREAM_REDIS_IMAGE?.trim() || DEFAULT_REDIS_IMAGE;
  const bind = network === 'host' ? ['--bind', '127.0.0.1'] : [];
  const aof = options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const auth = options.password ? ['--requirepass', options.password] : [];
  const container = onPort(new GenericContainer(image), network, port)
    .withCommand(['redis-server', '--port', String(port), ...bind, '--save', '', ...aof, ...auth])
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .withStartupTimeout(60_000);
  const started = await startOrExplain(container, `Redis (${image})`);
  return service(`${host}:${port}`, started);
}

async function startOrExplain(container: GenericContainer, what: string): Promise<StartedTestContainer> {
  try {
    return await container.start();
  } catch (e) {
    throw new Error(`${what} container failed to start: ${firstLine(e)}`);
  }
}

/**
 * The container as a DockerService: stop() once, removing it (with Ryuk disabled nothing else
 * would) in whatever state the faults left it; control through the engine's API (dockerode).
 */
export async function service(address: string, started: StartedTestContainer): Promise<DockerService> {
  const client = await getContainerRuntimeClient();
  const c = client.container.getById(started.getId());
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= c.remove({ force: true, v: true }).then(
      () => undefined,
      (e: unknown) => {
        // already gone (a 404) is what stop() is for; anything else is a failure to say
        if ((e as { statusCode?: number }).statusCode !== 404) throw e;
      },
    );
    return stopping;
  };
  const control: DockerControl = {
    async halt(signal) {
      if (signal === 'SIGKILL') await c.kill({ signal: 'SIGKILL' });
      else await c.stop({ t: 10 });
      await c.wait();
    },
    async start() {
      await c.start();
    },
    async pause() {
      await c.pause();
    },
    async unpause() {
      await c.unpause();
    },
  };
  return { address, stop, control };
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n').find((l) => l.trim())?.trim() ?? 'unknown error';
}
