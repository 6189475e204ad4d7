/**
 * One fault scenario's run: its own broker and Redis, ingest + 2 parse + 2 detect as child
 * processes, an observer on the outputs, a client submitting the fleet (retrying as a careful
 * client does when the service is away), a log of the faults injected, and the check of every
 * dump's invariants at the end (check.ts).
 */
import { createReadStream, mkdirSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { submitTranscripts, type SubmitResult } from '@dumpstream/ingest';
import { uniquePrefix, waitFor } from '../../support/ids';
import { startFaultBroker, startFaultRedis, type FaultBroker, type FaultRedis, type RedisServerOptions } from './cluster';
import { faultFleet, type FleetFile } from './fleet';
import { Observer } from './observe';
import { ServiceProcess, startAndWait, type ServiceKind } from './services';

/** Lines per segment, in ingest and in the `analyze` the reports are compared with. */
export const SEGMENT_LINES = 400;
export const HOST = 'faults-host';

export interface FaultRunOptions {
  scenario: string;
  parse?: number;
  detect?: number;
  /** DETECT_INCOMPLETE_AFTER, seconds (default 60: longer than any stall a fault causes). */
  incompleteAfterS?: number;
  /** DETECT_LEASE, seconds (default 10). */
  leaseS?: number;
  redis?: RedisServerOptions;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra environment for ingest only. */
  ingestEnv?: Record<string, string>;
  /** INGEST_TOKEN: ingest requires it, the client sends it. */
  token?: string;
  /** Also read the segments and manifests topics (which uploads exist, which ended). */
  watchUploads?: boolean;
  /** Fleet to submit (default faultFleet()). */
  fleet?: FleetFile[];
}

/** A fault injected: when it began and ended (ms since the epoch). */
export interface FaultEvent {
  what: string;
  start: number;
  end: number;
}

/** What became of one file of the fleet, after the client's retries. */
export interface Submitted {
  file: FleetFile;
  result: SubmitResult;
  attempts: number;
  /** uploadIds of the attempts that failed (their uploads may have left segments behind). */
  failedUploads: string[];
  /** When the last attempt was sent. */
  at: number;
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

export class FaultRun {
  readonly events: FaultEvent[] = [];
  readonly startedAt = Date.now();
  submitted: Submitted[] = [];
  private constructor(
    readonly options: FaultRunOptions,
    readonly dir: string,
    readonly broker: FaultBroker,
    readonly redis: FaultRedis,
    readonly prefix: string,
    readonly ingest: ServiceProcess,
    readonly parsers: ServiceProcess[],
    readonly detectors: ServiceProcess[],
    readonly observer: Observer,
    readonly fleet: FleetFile[],
    readonly ingestUrl: string,
    /** The environment every service gets (before WORKER_ID and per-service additions). */
    readonly env: Record<string, string>,
  ) {}

  static async start(options: FaultRunOptions): Promise<FaultRun> {
    const dir = path.join(os.tmpdir(), 'dumpstream-faults', `${options.scenario}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    mkdirSync(dir, { recursive: true });
    const [fleet, broker, redis, port] = await Promise.all([options.fleet ?? faultFleet(), startFaultBroker(), startFaultRedis(options.redis), freePort()]);
    const prefix = uniquePrefix(options.scenario);
    const env: Record<string, string> = {
      KAFKA_BROKERS: broker.brokers,
      REDIS_URL: redis.url,
      DUMPSTREAM_TOPIC_PREFIX: `${prefix}.`,
      DUMPSTREAM_PARTITIONS: '4',
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'info',
      INGEST_LISTEN: `127.0.0.1:${port}`,
      INGEST_SEGMENT_LINES: String(SEGMENT_LINES),
      DETECT_INCOMPLETE_AFTER: String(options.incompleteAfterS ?? 60),
      DETECT_LEASE: String(options.leaseS ?? 10),
      ...(options.token ? { INGEST_TOKEN: options.token } : {}),
      ...options.env,
    };
    const proc = (kind: ServiceKind, n: number) =>
      new ServiceProcess(kind, `${kind}-${n}`, { ...env, WORKER_ID: `${kind}-${n}`, ...(kind === 'ingest' ? options.ingestEnv : { HEALTH_LISTEN: '127.0.0.1:0' }) }, path.join(dir, `${kind}-${n}.log`));
    const ingest = proc('ingest', 1);
    const parsers = Array.from({ length: options.parse ?? 2 }, (_, i) => proc('parse', i + 1));
    const detectors = Array.from({ length: options.detect ?? 2 }, (_, i) => proc('detect', i + 1));
    const observer = new Observer(broker.brokers, `${prefix}.`, prefix);
    const run = new FaultRun(options, dir, broker, redis, prefix, ingest, parsers, detectors, observer, fleet, `http://127.0.0.1:${port}`, env);
    // ingest first: it creates the topics the others subscribe to.
    await startAndWait(ingest);
    await Promise.all([...parsers, ...detectors].map((p) => startAndWait(p)));
    await observer.start({ watchUploads: options.watchUploads });
    return run;
  }

  get services(): ServiceProcess[] {
    return [this.ingest, ...this.parsers, ...this.detectors];
  }

  /** Seconds since the run started, for logs. */
  elapsed(at = Date.now()): number {
    return Math.round((at - this.startedAt) / 100) / 10;
  }

  /** Records a fault around `inject` (which resolves when the fault is over). */
  async fault(what: string, inject: () => Promise<void>): Promise<void> {
    const start = Date.now();
    this.say(`fault: ${what} (${this.reportedOf()}/${this.fleet.length} reported)`);
    await inject();
    this.events.push({ what, start, end: Date.now() });
    this.say(`fault over after ${((Date.now() - start) / 1000).toFixed(1)} s`);
  }

  /** A progress line on stderr when FAULTS_VERBOSE is set (jest buffers console output). */
  say(line: string): void {
    if (process.env.FAULTS_VERBOSE) process.stderr.write(`[${this.options.scenario} ${this.elapsed().toFixed(1)}s] ${line}\n`);
  }

  /**
   * Submits files `concurrency` at a time. A file whose upload fails for want of the service
   * (no answer, 429, 5xx) is sent again with backoff, as a careful client does; the uploadIds of
   * failed attempts are kept (their segments may be in Kafka). `spreadOverMs` paces the uploads'
   * starts evenly over at least that long, so that a scenario whose faults must fall while dumps
   * are in flight has dumps in flight for that long however fast the pipeline is.
   */
  async submit(files: FleetFile[] = this.fleet, options: { concurrency?: number; maxAttempts?: number; spreadOverMs?: number } = {}): Promise<Submitted[]> {
    const { concurrency = 4, maxAttempts = 12, spreadOverMs = 0 } = options;
    const t0 = Date.now();
    let next = 0;
    const out: Submitted[] = new Array(files.length);
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < files.length) {
          const i = next++;
          const notBefore = t0 + Math.floor((spreadOverMs * i) / files.length);
          if (Date.now() < notBefore) await new Promise((r) => setTimeout(r, notBefore - Date.now()));
          const failedUploads: string[] = [];
          let attempts = 0;
          let result: SubmitResult;
          for (;;) {
            attempts++;
            [result] = await submitTranscripts({ files: [files[i].file], url: this.ingestUrl, host: HOST, token: this.options.token, timeoutMs: 180_000 });
            if (result.ok) break;
            if (result.uploadId) failedUploads.push(result.uploadId);
            const retriable = result.status === 0 || result.status === 429 || result.status >= 500;
            if (!retriable || attempts >= maxAttempts) break;
            await new Promise((r) => setTimeout(r, Math.min(1000 * attempts, 5000)));
          }
          out[i] = { file: files[i], result: result!, attempts, failedUploads, at: Date.now() };
        }
      }),
    );
    this.submitted.push(...out);
    return out;
  }

  /** Resolves once a report per dumpId is in (or throws after `timeoutMs`). */
  async waitForReports(dumpIds: string[], timeoutMs: number): Promise<void> {
    await waitFor(`a report for each of ${dumpIds.length} dumps`, () => (dumpIds.every((id) => this.observer.reports.has(id)) ? true : undefined), timeoutMs, 500);
  }

  /**
   * Resolves once every dump submitted so far has a report, by its dumpId or (when its end was
   * lost with Redis) by its uploadId; throws after `timeoutMs`.
   */
  async waitForAll(timeoutMs = 900_000): Promise<void> {
    const reports = this.observer.reports;
    await waitFor(
      `a report for each of ${this.submitted.length} dumps`,
      () => (this.submitted.every((s) => !s.result.ok || reports.has(s.file.dumpId) || reports.has(s.result.uploadId!)) ? true : undefined),
      timeoutMs,
      500,
    );
  }

  /**
   * Uploads a file slowly (chunked, `bytesPerSecond`), as a client on a slow link: for killing
   * ingest in the middle of it. Resolves with the HTTP status (0 when the connection broke).
   */
  slowUpload(file: string, bytesPerSecond: number): Promise<{ status: number; error: string | null; sent: number }> {
    return new Promise((resolve) => {
      const url = new URL(`${this.ingestUrl}/v1/transcripts`);
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-dumpstream-source': path.basename(file), 'x-dumpstream-host': HOST } });
      let sent = 0;
      let done = false;
      const finish = (status: number, error: string | null) => {
        if (done) return;
        done = true;
        stream.destroy();
        resolve({ status, error, sent });
      };
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => finish(res.statusCode ?? 0, res.statusCode === 202 ? null : `HTTP ${res.statusCode}`));
      });
      req.on('error', (e) => finish(0, e.message));
      const chunk = 64 * 1024;
      const stream = createReadStream(file, { highWaterMark: chunk });
      stream.on('data', (b) => {
        stream.pause();
        req.write(b);
        sent += b.length;
        setTimeout(() => stream.resume(), (1000 * b.length) / bytesPerSecond);
      });
      stream.on('end', () => req.end());
    });
  }

  /** Dumps of the fleet reported so far. */
  reportedOf(files: FleetFile[] = this.fleet): number {
    return files.filter((f) => this.observer.reports.has(f.dumpId)).length;
  }

  /** Resolves once `n` dumps of the fleet are reported. */
  async waitForProgress(n: number, timeoutMs = 600_000): Promise<void> {
    await waitFor(`${n} dumps reported`, () => (this.reportedOf() >= n ? true : undefined), timeoutMs, 200);
  }

  /** Lets the pipeline settle so that late duplicates would show, then stops everything. */
  async close(): Promise<void> {
    await this.observer.stop();
    await Promise.allSettled(this.services.map((s) => s.close()));
    await Promise.allSettled([this.broker.stop(), this.redis.destroy()]);
  }
}

/** A random whole number of ms in [min, max]. */
export function randomMs(min: number, max: number): number {
  return Math.round(min + Math.random() * (max - min));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
