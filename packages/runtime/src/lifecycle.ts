import type { Log } from '@dumpstream/kafka';

/**
 * Runs `stop` once on SIGTERM or SIGINT (graceful shutdown: stop taking work, finish what is in
 * hand, commit, disconnect), then exits. A second signal, or `graceMs` passing, exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, log: Log, graceMs = 30_000): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn('second signal: exiting now', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('stopping', { signal });
    const timer = setTimeout(() => {
      log.error('graceful stop took too long: exiting', { graceMs });
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (e: unknown) => {
        log.error('stop failed', { error: e });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/** Retries `fn` with exponential backoff while `retriable(error)` says so. */
export async function withRetry<T>(what: string, fn: () => Promise<T>, log: Log, opts: { retries?: number; initialMs?: number; maxMs?: number; retriable?: (e: unknown) => boolean } = {}): Promise<T> {
  const retries = opts.retries ?? 10;
  let delay = opts.initialMs ?? 100;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= retries || (opts.retriable && !opts.retriable(e))) throw e;
      log.warn(`${what} failed, retrying`, { attempt: attempt + 1, delayMs: delay, error: e });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.maxMs ?? 5000);
    }
  }
}
