import { initialContext, cloneContext, type DebuggerContext } from './context';
import { cleanBatch, LineReader, lineAt, type LineBatch } from './lines';
import { TranscriptParser } from './parser';
import { segmentLimits, type Segment, type SegmentationSummary, type SegmenterOptions } from './segmenter';
import { applySessionLine, matchSessionLine, type SessionLine } from './session';
import { skipSpaces } from './text';

export interface CutSummary extends SegmentationSummary {
  /** Whether the parser found anything a debugger prints (a prompt, process, thread, stack, …). */
  debuggerOutput: boolean;
}

/**
 * Cuts a transcript into segments for the parse workers without parsing it, which is what lets
 * one ingest feed many of them.
 *
 * A segment starts at a session line that opens something new (a prompt, a pasted command, a
 * `PROCESS` header, a `~` thread header; session.ts): the context before such a line is its
 * session part only, because the line itself closes whatever block, thread or stack was open.
 * The cutter follows that part by reading session lines with the parser's own functions, so the
 * context it gives each segment is exactly the parser's. Where no such line comes before the hard
 * limit (one enormous process block or stack), it parses the segment so far to know the context
 * at the cut: correct always, and as costly as today only where the transcript leaves no choice.
 *
 * Until something a debugger prints turns up, it also parses from the top (usually a few lines),
 * so that text which is not a transcript is refused by the same rule `analyze` uses.
 */
export class SegmentCutter {
  private readonly reader = new LineReader();
  private readonly maxLines: number;
  private readonly maxChars: number;
  private readonly hardMaxLines: number;
  private readonly hardMaxChars: number;
  /** The session as the lines read so far left it (block, thread and stack only as far as session lines say). */
  private session: DebuggerContext = initialContext();
  private segStartContext: DebuggerContext = initialContext();
  private segFirstLine = 1;
  private segLines: string[] = [];
  private segTruncated: number[] = [];
  private segChars = 0;
  private seq = 0;
  private truncated = 0;
  /** The segment's parser while a cut in the middle of a block waits for a `kP` parameter list to close. */
  private pending: TranscriptParser | null = null;
  /** Parses from the top until it finds debugger output; null once it has. */
  private probe: TranscriptParser | null = new TranscriptParser(initialContext(), 0, 1);

  constructor(
    private readonly onSegment: (segment: Segment) => void,
    options: SegmenterOptions = {},
  ) {
    ({ maxLines: this.maxLines, maxChars: this.maxChars, hardMaxLines: this.hardMaxLines, hardMaxChars: this.hardMaxChars } = segmentLimits(options));
  }

  /** Bytes seen so far. */
  get bytesRead(): number {
    return this.reader.bytesRead;
  }

  /** Feeds a chunk of the transcript. */
  push(chunk: Buffer | string): void {
    this.batch(this.reader.push(chunk));
  }

  /** Ends the transcript: flushes the last line and the last segment. */
  end(): CutSummary {
    this.batch(this.reader.end());
    if (this.segLines.length > 0 || this.seq === 0) this.cut(this.segStartContext);
    return { segments: this.seq, lines: this.reader.linesRead, bytes: this.reader.bytesRead, truncatedLines: this.truncated, debuggerOutput: this.probe === null };
  }

  private batch(b: LineBatch): void {
    const { truncated } = cleanBatch(b);
    let t = 0;
    for (let i = 0; i < b.count; i++) {
      const lineNo = b.firstLine + i;
      const line = lineAt(b, i);
      const start = skipSpaces(line);
      const s = start < line.length ? matchSessionLine(line, start, this.session.mode, this.session.machine) : null;
      const n = this.segLines.length;
      if (n >= this.maxLines || this.segChars >= this.maxChars) {
        if (s !== null && this.opensNew(s)) this.cut(this.sessionContext());
        else if (n >= this.hardMaxLines || this.segChars >= this.hardMaxChars) this.cutInBlock();
      }
      if (s !== null) applySessionLine(this.session, s);
      this.pending?.line(line, lineNo);
      this.segLines.push(line);
      this.segChars += line.length;
      if (t < truncated.length && truncated[t] === lineNo) {
        t++;
        this.truncated++;
        this.segTruncated.push(lineNo);
      }
      if (this.probe !== null) {
        this.probe.line(line, lineNo);
        if (this.probe.foundDebuggerOutput) this.probe = null;
      }
    }
  }

  /**
   * A line before which the context is the session's alone: it closes every block, thread and
   * stack. Not inside `!stacks` output, whose heading (the image of the rows below it) is not a
   * session line.
   */
  private opensNew(s: SessionLine): boolean {
    if (s.kind === 'command') return true;
    return (s.kind === 'process' || s.kind === 'user-thread') && this.session.command !== '!stacks';
  }

  /** The context before a line that opens something new: the session, nothing open. */
  private sessionContext(): DebuggerContext {
    const ctx = cloneContext(this.session);
    ctx.block = null;
    ctx.thread = null;
    ctx.stack = null;
    ctx.peb = null;
    return ctx;
  }

  /**
   * A cut in the middle of a block: the segment so far is parsed to know the exact context. Inside
   * a `kP` parameter list (which no context carries) the parser goes on with the next lines and
   * the cut waits for the list to close.
   */
  private cutInBlock(): void {
    if (this.pending === null) {
      this.pending = new TranscriptParser(this.segStartContext, this.seq, this.segFirstLine);
      for (let i = 0; i < this.segLines.length; i++) this.pending.line(this.segLines[i], this.segFirstLine + i);
    }
    if (this.pending.insideParameterList) return;
    const { context } = this.pending.finish();
    this.session = cloneContext(context);
    this.cut(context);
  }

  /** Hands over the segment so far; the next starts with `next`. */
  private cut(next: DebuggerContext): void {
    const segment: Segment = { seq: this.seq, firstLine: this.segFirstLine, context: this.segStartContext, lines: this.segLines, truncatedLines: this.segTruncated };
    this.onSegment(segment);
    this.seq++;
    this.segFirstLine += this.segLines.length;
    this.segStartContext = next;
    this.pending = null;
    this.segLines = [];
    this.segTruncated = [];
    this.segChars = 0;
  }
}
