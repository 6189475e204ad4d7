/**
 * A real Prometheus for the end-to-end tests: the machine's `prometheus` binary (Debian: apt-get
 * install -y prometheus; its system service is not used), started on a free loopback port with a
 * temporary configuration that scrapes the given targets every second, and queried through its
 * HTTP API. Where the machine has no `prometheus` and the tests run on the Docker path (a Docker
 * engine answers, or DUMPSTREAM_INFRA=docker), a container of DUMPSTREAM_PROMETHEUS_IMAGE
 * (default prom/prometheus:v2.53.0) instead, with the same configuration.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chooseInfraSync, prometheusImage } from './infra';

/** One scrape target: host:port serving /metrics. */
export interface ScrapeTarget {
  address: string;
  /** A label put on the target (the services also label their series `service` themselves). */
  name: string;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Rule files to load (absolute paths); evaluated every second. */
  ruleFiles?: string[];
  /** The job name of the targets. Default `dumpstream`, as in deploy/prometheus/prometheus.yml. */
  job?: string;
}

/** An instant-vector sample from the query API. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusHandle {
  url: string;
  /** An instant query now; rejects when Prometheus says the query is bad. */
  query(expr: string): Promise<Sample[]>;
  /** GET a path of the HTTP API and return its `data`. */
  api<T>(pathAndQuery: string): Promise<T>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url}: no answer in 10 s`)));
  });
}

/**
 * Starts Prometheus and resolves once it is ready (its /-/ready answers 200).
 * @throws Error when the binary is missing or it does not become ready in 30 s (with its log).
 */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusHandle> {
  if (spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).error) {
    if (chooseInfraSync() === 'docker') return startPrometheusContainer(options);
    throw new Error('prometheus is not installed (Debian: apt-get install -y prometheus; the tests start it themselves, the system service is not needed; or a Docker engine: the tests then run it from a container); .ci/run installs it');
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dumpstream-prometheus-'));
  const config = configText(options, options.ruleFiles ?? [], (a) => a);
  await fs.writeFile(path.join(dir, 'prometheus.yml'), config);
  return startLocal(dir);
}

/** The configuration: scrape every second, the rule files, the targets (addresses mapped by `address`). */
function configText(options: PrometheusOptions, ruleFiles: string[], address: (a: string) => string): string {
  const job = options.job ?? 'dumpstream';
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    ...ruleFiles.map((f) => `  - ${JSON.stringify(f)}`),
    'scrape_configs:',
    `  - job_name: ${job}`,
    '    static_configs:',
    ...options.targets.flatMap((t) => [`      - targets: [${JSON.stringify(address(t.address))}]`, `        labels: { target: ${JSON.stringify(t.name)} }`]),
    '',
  ].join('\n');
}

async function startLocal(dir: string): Promise<PrometheusHandle> {
  let child: ChildProcess | null = null;
  let log = '';
  let url = '';
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);
  for (let attempt = 0; attempt < 3 && !url; attempt++) {
    const port = await freePort();
    log = '';
    const p = spawn(
      'prometheus',
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', '--storage.tsdb.retention.time=1h'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = p;
    p.stdout!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
    p.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
    let exited = false;
    p.once('exit', () => (exited = true));
    const until = Date.now() + 30_000;
    while (!exited && Date.now() < until) {
      const ok = await get(`http://127.0.0.1:${port}/-/ready`).then((r) => r.status === 200, () => false);
      if (ok) {
        url = `http://127.0.0.1:${port}`;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!url) {
      p.kill('SIGKILL');
      // Another process may have taken the port between our check and Prometheus' bind: try another.
      if (!/address already in use/i.test(log)) break;
    }
  }
  if (!url) {
    await fs.rm(dir, { recursive: true, force: true });
    process.off('exit', killOnExit);
    throw new Error(`prometheus did not become ready in 30 s; its log ends:\n${log.split('\n').slice(-20).join('\n')}`);
  }

  let stopped: Promise<void> | null = null;
  return handle(url, () => {
    stopped ??= (async () => {
      const c = child!;
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      process.off('exit', killOnExit);
      await fs.rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  });
}

/** The HTTP API of the Prometheus at `url`. */
function handle(url: string, stop: () => Promise<void>): PrometheusHandle {
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const r = await get(`${url}${pathAndQuery}`);
    const body = JSON.parse(r.body) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error ?? r.body}`);
    return body.data;
  };
  return {
    url,
    api,
    async query(expr) {
      const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector') throw new Error(`query ${expr} gave a ${data.resultType}, not a vector`);
      return data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    },
    stop,
  };
}

/**
 * Prometheus in a container (the Docker path, where the machine has no prometheus): the
 * configuration and rule files copied in (no bind mount, so no file sharing is needed), the
 * same port inside and out. On an engine of this Linux machine (docker-infra.ts sharesLoopback:
 * one started with --bridge=none, as the tests' own engines are, or a stock Docker Engine with its
 * bridge) it runs on the host network and scrapes the targets' loopback addresses as they are: a
 * bridged container there reaches host.docker.internal at the bridge's address, where nothing of
 * the tests listens (seen with integration-on-docker.sh --bridge). Elsewhere (Docker Desktop) it
 * runs on the bridge and scrapes loopback targets at host.docker.internal, which Docker Desktop
 * forwards to this machine's loopback.
 */
async function startPrometheusContainer(options: PrometheusOptions): Promise<PrometheusHandle> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docker = require('./docker-infra') as typeof import('./docker-infra');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { GenericContainer, Wait } = require('testcontainers') as typeof import('testcontainers');
  const engine = await docker.engine();
  const { host } = engine;
  const network = engine.sharesLoopback ? 'host' : engine.network;
  const image = prometheusImage();
  const port = await freePort();
  const etc = '/etc/dumpstream-prometheus';
  const rules = (options.ruleFiles ?? []).map((f, i) => ({ from: f, to: `${etc}/rules/${i}-${path.basename(f)}` }));
  const hostOf = (a: string): string => (network === 'bridge' ? a.replace(/^(127\.0\.0\.1|localhost):/, 'host.docker.internal:') : a);
  const files = [
    { content: configText(options, rules.map((r) => r.to), hostOf), target: `${etc}/prometheus.yml`, mode: 0o644 },
    ...(await Promise.all(rules.map(async (r) => ({ content: await fs.readFile(r.from, 'utf8'), target: r.to, mode: 0o644 })))),
  ];
  const listen = network === 'host' ? `127.0.0.1:${port}` : `0.0.0.0:${port}`;
  let container = docker
    .onPort(new GenericContainer(image), network, port)
    .withCopyContentToContainer(files)
    .withCommand([`--config.file=${etc}/prometheus.yml`, '--storage.tsdb.path=/prometheus', `--web.listen-address=${listen}`, '--log.level=info', '--storage.tsdb.retention.time=1h'])
    .withWaitStrategy(Wait.forLogMessage(/Server is ready to receive web requests/))
    .withStartupTimeout(120_000);
  if (network === 'bridge') container = container.withExtraHosts([{ host: 'host.docker.internal', ipAddress: 'host-gateway' }]);
  let started;
  try {
    started = await container.start();
  } catch (e) {
    throw new Error(`the Prometheus container (${image}) failed to start: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const service = await docker.service(`${host}:${port}`, started);
  const url = `http://${service.address}`;
  const until = Date.now() + 30_000;
  while (!(await get(`${url}/-/ready`).then((r) => r.status === 200, () => false))) {
    if (Date.now() > until) {
      await service.stop().catch(() => undefined);
      throw new Error(`the Prometheus container on ${url} did not become ready in 30 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return handle(url, service.stop);
}
