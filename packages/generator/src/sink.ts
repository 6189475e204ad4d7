/**
 * Collects lines and hands them out as chunks of exactly `chunkSize` characters (the last one
 * shorter), so a consumer never sees a chunk above the bound and memory stays at about one
 * chunk plus one command's output.
 */
export class ChunkSink {
  private parts: string[] = [];
  private pendingChars = 0;
  private capture: string[] | null = null;
  /** Characters (= bytes: the output is ASCII) emitted so far, chunked or pending. */
  total = 0;
  /** Indentation of the following lines becomes tabs (a paste artefact). */
  tabs = false;
  /**
   * Following lines lose their indentation and, with `'spaces'`, runs of spaces become one
   * (text pasted into a web page, as in the original write-up of the pattern).
   */
  collapse: 'off' | 'indent' | 'spaces' = 'off';

  constructor(
    readonly chunkSize: number,
    /** Line ending: `\n` or `\r\n`. */
    public eol: string,
  ) {}

  /** Appends one line (without its line ending). */
  line(text: string): void {
    let t = text;
    if (this.collapse !== 'off') {
      t = t.trimStart();
      if (this.collapse === 'spaces') t = t.replace(/ {2,}/g, ' ');
    }
    const s = (this.tabs ? toTabs(t) : t) + this.eol;
    if (this.capture) this.capture.push(s);
    else {
      this.parts.push(s);
      this.pendingChars += s.length;
    }
    this.total += s.length;
  }

  /** Appends text that already holds its line endings (a re-used rendering). */
  raw(text: string): void {
    if (this.capture) this.capture.push(text);
    else {
      this.parts.push(text);
      this.pendingChars += text.length;
    }
    this.total += text.length;
  }

  /** Starts collecting lines aside (still counted in `total`) instead of queueing them. */
  beginCapture(): void {
    this.capture = [];
  }

  /** Queues the collected lines and returns them as one string. */
  endCapture(): string {
    const text = (this.capture ?? []).join('');
    this.capture = null;
    this.parts.push(text);
    this.pendingChars += text.length;
    return text;
  }

  /** Whether at least one full chunk is waiting. */
  get ready(): boolean {
    return this.pendingChars >= this.chunkSize;
  }

  /** Yields every full chunk; with `final`, also the rest (if any). */
  *take(final: boolean): Generator<string> {
    if (this.pendingChars < this.chunkSize && !(final && this.pendingChars > 0)) return;
    let buf = this.parts.join('');
    this.parts = [];
    let at = 0;
    while (buf.length - at >= this.chunkSize) {
      yield buf.slice(at, at + this.chunkSize);
      at += this.chunkSize;
    }
    const rest = buf.slice(at);
    buf = '';
    if (final) {
      this.pendingChars = 0;
      if (rest.length > 0) yield rest;
    } else {
      this.parts = rest.length > 0 ? [rest] : [];
      this.pendingChars = rest.length;
    }
  }
}

function toTabs(s: string): string {
  let n = 0;
  while (s.charCodeAt(n) === 32) n++;
  if (n < 4) return s;
  return '\t'.repeat(n >> 2) + s.slice(n & ~3);
}
