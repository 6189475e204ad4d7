import { initialContext, cloneContext, type DebuggerContext } from './context';
import { MAX_UNPARSED_SAMPLE, type Facts } from './facts';
import { cleanBatch, LineReader, lineAt, lineLength, type LineBatch } from './lines';
import { TranscriptParser } from './parser';
import { matchSessionLine } from './session';
import { skipSpaces } from './text';

/** A bounded run of cleaned lines with the debugger context in force at its first line. */
export interface Segment {
  /** 0-based position of the segment in its transcript. */
  seq: number;
  /** 1-based number of the segment's first line in the transcript. */
  firstLine: number;
  context: DebuggerContext;
  lines: string[];
  /**
   * 1-based numbers of its lines that were cut at MAX_LINE_LENGTH: parseSegment warns about them
   * as the segmenter did (the cut line alone cannot say it was cut).
   */
  truncatedLines?: number[];
}

export interface SegmenterOptions {
  /** Soft limit: past it, the segment ends at the next command, PROCESS, THREAD or blank line. */
  maxLines?: number;
  /** Soft limit in characters, checked like maxLines. */
  maxChars?: number;
  /** Past this many lines a segment is cut wherever it is (one enormous stack, say). */
  hardMaxLines?: number;
  /** Past this many characters a segment is cut wherever it is (very long lines, no boundary). */
  hardMaxChars?: number;
  /** Keep the lines in each segment (the distributed pipeline ships them); embedded runs need only facts. */
  keepLines?: boolean;
  /** Unparsed lines each segment's facts keep with their text (default MAX_UNPARSED_SAMPLE). */
  keepUnparsed?: number;
  /**
   * Process blocks' detail lines kept as `details` in their facts (default true). The graph never
   * reads them: `analyze` and the parse service (parseSegment's option) say false.
   */
  keepDetails?: boolean;
}

/** The limits of SegmenterOptions with their defaults. */
export function segmentLimits(o: SegmenterOptions): Required<Pick<SegmenterOptions, 'maxLines' | 'maxChars' | 'hardMaxLines' | 'hardMaxChars'>> {
  const maxLines = o.maxLines ?? 4000;
  const maxChars = o.maxChars ?? 512 * 1024;
  return { maxLines, maxChars, hardMaxLines: o.hardMaxLines ?? maxLines * 4, hardMaxChars: o.hardMaxChars ?? maxChars * 8 };
}

export interface SegmentationSummary {
  segments: number;
  lines: number;
  bytes: number;
  truncatedLines: number;
}

/**
 * Streams a transcript into segments. It parses as it goes (the context at each cut comes from
 * the parser itself, so it is exact), and hands each segment over with its facts. Memory holds
 * one chunk and one segment.
 */
export class Segmenter {
  private readonly reader = new LineReader();
  private readonly maxLines: number;
  private readonly maxChars: number;
  private readonly hardMaxLines: number;
  private readonly hardMaxChars: number;
  private readonly keepLines: boolean;
  private readonly keepUnparsed: number;
  private readonly keepDetails: boolean;
  private parser: TranscriptParser;
  private segStartContext: DebuggerContext = initialContext();
  private segFirstLine = 1;
  private segLines: string[] = [];
  private segTruncated: number[] = [];
  private segLineCount = 0;
  private segChars = 0;
  private seq = 0;
  private truncated = 0;

  constructor(
    private readonly onSegment: (segment: Segment, facts: Facts) => void,
    options: SegmenterOptions = {},
  ) {
    ({ maxLines: this.maxLines, maxChars: this.maxChars, hardMaxLines: this.hardMaxLines, hardMaxChars: this.hardMaxChars } = segmentLimits(options));
    this.keepLines = options.keepLines ?? false;
    this.keepUnparsed = options.keepUnparsed ?? MAX_UNPARSED_SAMPLE;
    this.keepDetails = options.keepDetails ?? true;
    this.parser = new TranscriptParser(this.segStartContext, 0, 1, this.keepUnparsed, this.keepDetails);
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
  end(): SegmentationSummary {
    this.batch(this.reader.end());
    if (this.segLineCount > 0 || this.seq === 0) this.cut();
    return { segments: this.seq, lines: this.reader.linesRead, bytes: this.reader.bytesRead, truncatedLines: this.truncated };
  }

  private batch(b: LineBatch): void {
    const { truncated, bytes, starts, ends, text } = cleanBatch(b);
    // A line that is a range of bytes mirroring its text goes to the parser as that range, which
    // makes its string only if it must (lineRange); a segment's lines kept whole need strings anyway.
    const ranges = bytes !== undefined && !this.keepLines;
    let t = 0;
    for (let i = 0; i < b.count; i++) {
      const lineNo = b.firstLine + i;
      if (this.segLineCount >= this.maxLines || this.segChars >= this.maxChars) {
        if (((this.segLineCount >= this.hardMaxLines || this.segChars >= this.hardMaxChars) && !this.parser.insideParameterList) || this.isBoundary(lineAt(b, i))) this.cut(lineNo);
      }
      this.segLineCount++;
      this.segChars += lineLength(b, i);
      if (ranges && starts[i] >= 0) {
        this.parser.lineRange(text, starts[i], ends[i], lineNo, bytes);
        continue;
      }
      const line = lineAt(b, i);
      if (this.keepLines) this.segLines.push(line);
      if (t < truncated.length && truncated[t] === lineNo) {
        t++;
        this.truncated++;
        this.segTruncated.push(lineNo);
        this.parser.warn('truncated-line', truncatedText(line), lineNo);
      }
      if (bytes !== undefined && starts[i] >= 0) this.parser.lineIn(line, lineNo, bytes, starts[i]);
      else this.parser.line(line, lineNo);
    }
  }

  /**
   * Lines where a new segment may start without splitting a block: commands (the session lines
   * that say so), PROCESS, THREAD, blanks. Any cut is exact (the context comes from the parser);
   * these keep blocks whole.
   */
  private isBoundary(line: string): boolean {
    const ctx = this.parser.ctx;
    if (ctx.stack !== null) return false;
    const s = skipSpaces(line);
    if (s >= line.length || line.startsWith('THREAD ', s)) return true;
    const kind = matchSessionLine(line, s, ctx.mode, ctx.machine)?.kind;
    return kind === 'command' || kind === 'process';
  }

  private cut(nextFirstLine?: number): void {
    const { facts, context } = this.parser.finish();
    const segment: Segment = { seq: this.seq, firstLine: this.segFirstLine, context: this.segStartContext, lines: this.segLines, truncatedLines: this.segTruncated };
    this.onSegment(segment, facts);
    this.seq++;
    this.segStartContext = cloneContext(context);
    this.segFirstLine = nextFirstLine ?? this.segFirstLine + this.segLineCount;
    this.segLines = [];
    this.segTruncated = [];
    this.segLineCount = 0;
    this.segChars = 0;
    this.parser = new TranscriptParser(this.segStartContext, this.seq, this.segFirstLine, this.keepUnparsed, this.keepDetails);
  }
}

const truncatedText = (line: string): string => `line longer than ${line.length} characters was cut`;

/**
 * Parses one segment on its own, as a parse worker does. Pure; never throws. `keepDetails` as the
 * parser's (a process block's detail lines, which the process graph never reads).
 */
export function parseSegment(segment: Segment, options: { keepDetails?: boolean } = {}): Facts {
  const p = new TranscriptParser(segment.context, segment.seq, segment.firstLine, MAX_UNPARSED_SAMPLE, options.keepDetails ?? true);
  const lines = segment.lines;
  const cut = segment.truncatedLines ?? [];
  let t = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = segment.firstLine + i;
    while (t < cut.length && cut[t] < lineNo) t++;
    if (t < cut.length && cut[t] === lineNo) p.warn('truncated-line', truncatedText(lines[i]), lineNo);
    p.line(lines[i], lineNo);
  }
  return p.finish().facts;
}
