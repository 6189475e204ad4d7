/**
 * A real Prometheus for the end-to-end tests: the machine's `prometheus` binary (Debian: apt-get
 * install -y prometheus; its system service is not used), started on a free loopback port with a
 * temporary configuration that scrapes the given targets every second, and queried through its
 * HTTP API.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

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
    throw new Error('prometheus is not installed (Debian: apt-get install -y prometheus; the tests start it themselves, the system service is not needed); .ci/run installs it');
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dumpstream-prometheus-'));
  const job = options.job ?? 'dumpstream';
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    ...(options.ruleFiles ?? []).map((f) => `  - ${JSON.stringify(f)}`),
    'scrape_configs:',
    `  - job_name: ${job}`,
    '    static_configs:',
    ...options.targets.flatMap((t) => [`      - targets: [${JSON.stringify(t.address)}]`, `        labels: { target: ${JSON.stringify(t.name)} }`]),
    '',
  ].join('\n');
  await fs.writeFile(path.join(dir, 'prometheus.yml'), config);

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

  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const r = await get(`${url}${pathAndQuery}`);
    const body = JSON.parse(r.body) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error ?? r.body}`);
    return body.data;
  };
  let stopped: Promise<void> | null = null;
  return {
    url,
    api,
    async query(expr) {
      const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (data.resultType !== 'vector') throw new Error(`query ${expr} gave a ${data.resultType}, not a vector`);
      return data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    },
    stop() {
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
    },
  };
}
