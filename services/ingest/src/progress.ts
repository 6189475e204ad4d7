/** What submitTranscripts needs of a progress bar: the shape of @dumpstream/cli's ProgressBar. */
export interface Progress {
  update(bytes: number): void;
  done(): void;
}

/** Makes a bar for one input on `out`, or null when it would only be noise (not a terminal, small input). */
export type ProgressFactory = (out: NodeJS.WritableStream, label: string, total: number | null) => Progress | null;

const MIN_BYTES = 8 * 1024 * 1024;

/**
 * The default bar: the same display as @dumpstream/cli's ProgressBar (`label [####....] 42% 310 MB/s`),
 * kept here because the CLI depends on this package and not the other way round. The CLI may pass
 * its own ProgressBar.forStream as `progress`.
 */
export const terminalProgress: ProgressFactory = (out, label, total) => {
  const tty = out as NodeJS.WriteStream;
  if (!tty.isTTY || (total !== null && total < MIN_BYTES)) return null;
  const started = Date.now();
  let last = 0;
  return {
    update(bytes: number): void {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const rate = `${(bytes / 1e6 / Math.max((now - started) / 1000, 0.001)).toFixed(0)} MB/s`;
      const width = Math.max(10, Math.min(40, (tty.columns ?? 80) - 50));
      let line: string;
      if (total) {
        const frac = Math.min(1, bytes / total);
        const filled = Math.round(frac * width);
        line = `${label.slice(-24)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0)}% ${rate}`;
      } else {
        line = `${label.slice(-24)} ${(bytes / 1e6).toFixed(1)} MB ${rate}`;
      }
      tty.write(`\r${line}\x1b[K`);
    },
    done(): void {
      tty.write('\r\x1b[K');
    },
  };
};
