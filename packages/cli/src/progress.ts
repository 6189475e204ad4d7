/** A progress bar on a terminal's stderr; absent when stderr is not a terminal or the input is small. */
export class ProgressBar {
  private last = 0;
  private readonly started = Date.now();

  private constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly label: string,
    private readonly total: number | null,
  ) {}

  /** Inputs smaller than this finish before a bar would help. */
  static readonly MIN_BYTES = 8 * 1024 * 1024;

  /** A bar for this input, or null when it would only be noise. */
  static forStream(out: NodeJS.WritableStream, label: string, total: number | null): ProgressBar | null {
    const tty = out as NodeJS.WriteStream;
    if (!tty.isTTY) return null;
    if (total !== null && total < ProgressBar.MIN_BYTES) return null;
    return new ProgressBar(tty, label, total);
  }

  update(bytes: number): void {
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = `${(bytes / 1e6 / secs).toFixed(0)} MB/s`;
    const width = Math.max(10, Math.min(40, (this.out.columns ?? 80) - 50));
    let line: string;
    if (this.total) {
      const frac = Math.min(1, bytes / this.total);
      const filled = Math.round(frac * width);
      line = `${this.label.slice(-24)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0)}% ${rate}`;
    } else {
      line = `${this.label.slice(-24)} ${(bytes / 1e6).toFixed(1)} MB ${rate}`;
    }
    this.out.write(`\r${line}\x1b[K`);
  }

  done(): void {
    this.out.write('\r\x1b[K');
  }
}
