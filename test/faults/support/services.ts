/**
 * The services of a fault scenario as child processes, as they run in production:
 * `node packages/cli/dist/main.js ingest|parse|detect` configured by the environment. Their
 * stderr (JSON log lines) goes to a file per process and is kept in memory, so that a test can
 * search it (for a secret, say). A supervisor starts a process again when it exits on its own, as
 * systemd or Kubernetes would; processes the test kills on purpose are started again by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', '..', 'packages', 'cli', 'dist', 'main.js');

export type ServiceKind = 'ingest' | 'parse' | 'detect';

export interface ExitRecord {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Killed or stopped by the test, not on its own. */
  intended: boolean;
}

/** One service process, started again with the same environment (and WORKER_ID) each time. */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private intended = false;
  private log: WriteStream;
  private text = '';
  private restartTimer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly exits: ExitRecord[] = [];
  starts = 0;
  /** Peak resident memory (VmHWM) of each incarnation, in bytes, read just before it ended. */
  readonly peakRss: number[] = [];

  constructor(
    readonly kind: ServiceKind,
    readonly id: string,
    private readonly env: Record<string, string>,
    readonly logFile: string,
    private readonly autoRestart = true,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process wrote on stderr, every incarnation. */
  get stderr(): string {
    return this.text;
  }

  start(): void {
    if (this.running) throw new Error(`${this.id} is running already`);
    this.starts++;
    this.intended = false;
    const child = spawn(process.execPath, [CLI, this.kind], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (b: Buffer) => {
      this.log.write(b);
      this.text += b.toString();
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exits.push({ at: Date.now(), code, signal, intended: this.intended });
        this.log.write(`--- ${this.id} exited: code ${code} signal ${signal}${this.intended ? ' (by the test)' : ''} ---\n`);
        if (!this.intended && this.autoRestart && !this.closed) {
          // A supervisor's restart, after a short pause.
          this.restartTimer = setTimeout(() => {
            this.restartTimer = null;
            if (!this.closed && !this.running) this.start();
          }, 1000);
        }
        resolve();
      }),
    );
    this.child = child;
  }

  /** Peak resident memory of the running incarnation (VmHWM), bytes; 0 when unknown. */
  readPeakRss(): number {
    const pid = this.child?.pid;
    if (!pid || !this.running) return 0;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  /** Sends `signal` and waits for the exit. The supervisor does not restart it. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.intended = true;
    this.peakRss.push(this.readPeakRss());
    this.child!.kill(signal);
    await this.exited;
  }

  /** Graceful stop (SIGTERM), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.intended = true;
    this.peakRss.push(this.readPeakRss());
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Waits until the process has written a log line matching `re` since `fromLength` (default: ever). */
  async waitForLog(re: RegExp, timeoutMs = 60_000, fromLength = 0): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!re.test(this.text.slice(fromLength))) {
      if (Date.now() > until) throw new Error(`${this.id}: no log line matching ${re} within ${timeoutMs} ms; last lines:\n${this.text.split('\n').slice(-15).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.stop(10_000);
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

/** The line each service logs once it is up. */
export const STARTED: Record<ServiceKind, RegExp> = {
  ingest: /"msg":"ingest: listening"/,
  parse: /"msg":"parse worker started"/,
  detect: /"msg":"detect worker started"/,
};

/** Starts (again) and waits until the process says it is up. */
export async function startAndWait(p: ServiceProcess, timeoutMs = 90_000): Promise<void> {
  const from = p.stderr.length;
  p.start();
  await p.waitForLog(STARTED[p.kind], timeoutMs, from);
}
