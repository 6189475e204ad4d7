import { constants as fsc, watch, type FSWatcher } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Log } from '@dumpstream/kafka';
import { decodedBody } from './body';
import { detailOf, IngestError, toIngestError } from './errors';
import { validateLabel } from './metadata';
import { publishTranscript, type PublishTarget } from './publish';

/** The folders ingest keeps inside the spool folder. */
export const SPOOL_FOLDERS = { work: 'work', done: 'done', failed: 'failed' } as const;
/** A sidecar `<file>.host` names the machine the dump was taken on. */
export const HOST_SIDECAR = '.host';
/** Beside a failed file, `<file>.reason` says why it failed. */
export const REASON_SUFFIX = '.reason';

export interface SpoolOptions {
  /** The folder to watch. */
  dir: string;
  /** Largest accepted transcript (decoded). */
  maxBytes: number;
  /** A file is taken once its size and mtime have not changed for this long. Default 1000 ms. */
  stableMs?: number;
  /** Periodic scan, besides fs.watch. Default 1000 ms. */
  scanEveryMs?: number;
}

/** Why a directory entry is not taken as a transcript, or null when it is one. */
export function spoolSkipReason(name: string): string | null {
  if (name === '' || name === '.' || name === '..' || name !== path.basename(name) || name.includes('/') || name.includes('\\')) return 'not a plain file name';
  if (name.startsWith('.')) return 'hidden (write files under a hidden name, then rename them)';
  if (name.endsWith(HOST_SIDECAR)) return 'a host sidecar';
  return null;
}

interface Seen {
  size: number;
  mtimeMs: number;
  since: number;
}

/**
 * Watches a spool folder and ingests each file dropped in it once it has stopped growing.
 *
 * A file is claimed by renaming it (and its `<name>.host` sidecar) into `work/`, ingested from
 * there (source = its name; `*.gz` is gunzipped), then moved to `done/`, or to `failed/` with a
 * `<name>.reason` beside it. Files still in `work/` at start (a crash mid-file) are ingested
 * again; the same bytes give the same dumpId downstream. When Kafka fails, the file goes back to
 * the folder and is retried with backoff. Hidden files and sidecars are never taken; symbolic
 * links, and anything but regular files, are moved to `failed/` unread.
 */
export class SpoolFolder {
  private readonly dir: string;
  private readonly stableMs: number;
  private readonly scanEveryMs: number;
  private readonly seen = new Map<string, Seen>();
  private readonly retryAt = new Map<string, { at: number; attempts: number }>();
  private readonly queue: { name: string; recovered: boolean }[] = [];
  private readonly queued = new Set<string>();
  private watcher: FSWatcher | null = null;
  private interval: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private working: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly target: PublishTarget,
    private readonly options: SpoolOptions,
    private readonly log: Log,
  ) {
    this.dir = path.resolve(options.dir);
    this.stableMs = options.stableMs ?? 1000;
    this.scanEveryMs = options.scanEveryMs ?? 1000;
  }

  /**
   * Creates `work/`, `done/`, `failed/`, queues what `work/` holds from before, then starts
   * watching. Throws when the folder cannot be used (missing, not a folder, not writable).
   */
  async start(): Promise<void> {
    const st = await fs.stat(this.dir).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`spool folder ${this.dir} cannot be used: ${e.code ?? e.message}`);
    });
    if (!st.isDirectory()) throw new Error(`spool folder ${this.dir} is not a folder`);
    for (const sub of Object.values(SPOOL_FOLDERS)) await fs.mkdir(path.join(this.dir, sub), { recursive: true });
    await fs.access(this.dir, fsc.W_OK);
    for (const e of await fs.readdir(this.sub('work'), { withFileTypes: true })) {
      if (spoolSkipReason(e.name) === null) this.enqueue(e.name, true);
    }
    try {
      this.watcher = watch(this.dir, { persistent: false }, () => this.scanSoon(50));
      this.watcher.on('error', (e) => {
        this.log.warn('spool: watching failed; scanning periodically only', { dir: this.dir, error: e });
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (e) {
      this.log.warn('spool: cannot watch; scanning periodically only', { dir: this.dir, error: e });
    }
    this.interval = setInterval(() => this.scanSoon(0), this.scanEveryMs);
    this.interval.unref();
    this.log.info('spool: watching', { dir: this.dir });
    await this.scan();
  }

  /** Stops watching and resolves once the file being ingested, if any, is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.interval) clearInterval(this.interval);
    if (this.soon) clearTimeout(this.soon);
    await this.scanning;
    await this.working;
  }

  private sub(which: keyof typeof SPOOL_FOLDERS, name = ''): string {
    return path.join(this.dir, SPOOL_FOLDERS[which], name);
  }

  private scanSoon(ms: number): void {
    if (this.stopped || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      void this.scan();
    }, ms);
    this.soon.unref();
  }

  private scan(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce()
      .catch((e: unknown) => this.log.warn('spool: scan failed', { dir: this.dir, error: e }))
      .finally(() => {
        this.scanning = null;
        if (this.rescan) {
          this.rescan = false;
          this.scanSoon(0);
        }
      });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const now = Date.now();
    const present = new Set<string>();
    let nextCheck = Infinity;
    for (const e of await fs.readdir(this.dir, { withFileTypes: true })) {
      const name = e.name;
      if (e.isDirectory() || spoolSkipReason(name) !== null || this.queued.has(name)) continue;
      present.add(name);
      if (e.isSymbolicLink() || !e.isFile()) {
        await this.refuseUnread(name, e.isSymbolicLink() ? 'symbolic links are refused: copy the file into the spool folder' : 'not a regular file');
        continue;
      }
      const retry = this.retryAt.get(name);
      if (retry && retry.at > now) {
        nextCheck = Math.min(nextCheck, retry.at);
        continue;
      }
      const st = await fs.lstat(path.join(this.dir, name)).catch(() => null);
      if (!st || !st.isFile()) continue;
      const prev = this.seen.get(name);
      if (!prev || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs) {
        this.seen.set(name, { size: st.size, mtimeMs: st.mtimeMs, since: now });
        nextCheck = Math.min(nextCheck, now + this.stableMs);
      } else if (now - prev.since >= this.stableMs) {
        this.seen.delete(name);
        this.enqueue(name, false);
      } else {
        nextCheck = Math.min(nextCheck, prev.since + this.stableMs);
      }
    }
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);
    if (nextCheck !== Infinity) this.scanSoon(Math.max(0, nextCheck - Date.now()));
  }

  private enqueue(name: string, recovered: boolean): void {
    if (this.queued.has(name)) return;
    this.queued.add(name);
    this.queue.push({ name, recovered });
    this.kick();
  }

  private kick(): void {
    if (this.working || this.queue.length === 0 || this.stopped) return;
    this.working = this.work().finally(() => {
      this.working = null;
      this.kick();
    });
  }

  private async work(): Promise<void> {
    for (;;) {
      const next = this.queue.shift();
      if (!next) return;
      try {
        if (!this.stopped) await this.take(next.name, next.recovered);
      } catch (e) {
        this.log.error('spool: file handling failed', { file: next.name, error: e });
      } finally {
        this.queued.delete(next.name);
      }
    }
  }

  /** Claims a file into work/ (unless recovered from there), ingests it, files it away. */
  private async take(name: string, recovered: boolean): Promise<void> {
    const work = this.sub('work', name);
    if (!recovered) {
      try {
        await fs.rename(path.join(this.dir, name), work);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // gone meanwhile
        throw e;
      }
      await fs.rename(path.join(this.dir, name + HOST_SIDECAR), work + HOST_SIDECAR).catch(() => {});
    }
    const endTimer = this.target.metrics.uploadDuration.startTimer({ way: 'spool' });
    try {
      const source = validateLabel('source', name);
      const host = await this.readHost(work + HOST_SIDECAR);
      const file = await fs.open(work, fsc.O_RDONLY | fsc.O_NOFOLLOW).catch((e: NodeJS.ErrnoException) => {
        // ELOOP: a symbolic link put in place of the file after it was claimed.
        throw new IngestError('UNREADABLE', `cannot open the file: ${e.code === 'ELOOP' ? 'it is a symbolic link' : (e.code ?? e.message)}`);
      });
      let stream: ReturnType<typeof file.createReadStream> | undefined;
      let result;
      try {
        const st = await file.stat();
        if (!st.isFile()) throw new IngestError('UNREADABLE', 'not a regular file');
        stream = file.createReadStream({ highWaterMark: 64 * 1024, autoClose: false });
        const coding = /\.gz$/i.test(name) ? 'gzip' : 'identity';
        result = await publishTranscript(this.target, decodedBody(stream, coding, { maxBytes: this.options.maxBytes }), { source, host, way: 'spool' });
      } finally {
        stream?.destroy();
        await file.close().catch(() => {});
      }
      await this.fileAway(name, 'done');
      this.retryAt.delete(name);
      this.log.info('spool: file ingested', { file: name, uploadId: result.uploadId, dumpId: result.dumpId });
    } catch (e) {
      const err = toIngestError(e);
      this.target.metrics.uploadsRejected.inc({ reason: err.code.toLowerCase() });
      if (err.code === 'KAFKA' || (err.code === 'INTERNAL' && !this.stopped)) {
        // Not the file's fault: put it back and try again later.
        const prev = this.retryAt.get(name);
        const attempts = (prev?.attempts ?? 0) + 1;
        this.retryAt.set(name, { at: Date.now() + Math.min(300_000, 1000 * 2 ** attempts), attempts });
        this.log.warn('spool: ingest failed, will retry', { file: name, attempts, error: detailOf(err) });
        await this.moveOut(work, this.dir, name);
        await this.moveOut(work + HOST_SIDECAR, this.dir, name + HOST_SIDECAR).catch(() => {});
      } else {
        this.retryAt.delete(name);
        this.log.warn('spool: file refused', { file: name, code: err.code, reason: err.message });
        await this.fileAway(name, 'failed', `${err.code}: ${err.message}\n`);
      }
    } finally {
      endTimer();
    }
  }

  private async readHost(sidecar: string): Promise<string | null> {
    let st;
    try {
      st = await fs.lstat(sidecar);
    } catch {
      return null;
    }
    if (!st.isFile() || st.size > 4096) throw new IngestError('BAD_METADATA', `the host sidecar ${path.basename(sidecar)} is not a small regular file`);
    return validateLabel('host', await fs.readFile(sidecar, 'utf8'));
  }

  /** Moves work/<name> (and its sidecar) to done/ or failed/, never over an existing file. */
  private async fileAway(name: string, to: 'done' | 'failed', reason?: string): Promise<void> {
    const dest = await this.moveOut(this.sub('work', name), this.sub(to), name);
    await this.moveOut(this.sub('work', name + HOST_SIDECAR), this.sub(to), path.basename(dest) + HOST_SIDECAR).catch(() => {});
    if (reason !== undefined) await writeReason(dest, reason);
  }

  /** A file dropped in the folder that is never read (a link, a device): straight to failed/. */
  private async refuseUnread(name: string, reason: string): Promise<void> {
    this.target.metrics.uploadsRejected.inc({ reason: 'unreadable' });
    this.log.warn('spool: file refused', { file: name, reason });
    const dest = await this.moveOut(path.join(this.dir, name), this.sub('failed'), name).catch(() => null);
    if (dest) await writeReason(dest, `UNREADABLE: ${reason}\n`);
  }

  /** Renames `from` into folder `to` as `name`, or `name-1`, `name-2`… when taken. Returns the path. */
  private async moveOut(from: string, to: string, name: string): Promise<string> {
    const ext = path.extname(name);
    const stem = name.slice(0, name.length - ext.length);
    for (let i = 0; ; i++) {
      const dest = path.join(to, i === 0 ? name : `${stem}-${i}${ext}`);
      const taken = await fs.lstat(dest).then(
        () => true,
        () => false,
      );
      const reasonTaken = !taken && to !== this.dir && (await fs.lstat(dest + REASON_SUFFIX).then(() => true, () => false));
      if (taken || reasonTaken) continue;
      await fs.rename(from, dest);
      return dest;
    }
  }
}

/**
 * Writes `<file>.reason` whole or not at all: written beside it under a hidden name, then renamed,
 * so that whoever watches failed/ (a person, a script, the tests) never reads one half written or
 * empty (seen in CI: the file existed, empty, before its text was in).
 */
async function writeReason(file: string, text: string): Promise<void> {
  const partial = path.join(path.dirname(file), `.${path.basename(file)}${REASON_SUFFIX}.partial`);
  await fs.writeFile(partial, text);
  await fs.rename(partial, file + REASON_SUFFIX);
}
