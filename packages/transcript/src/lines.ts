import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import { cleanLine, nextCharToClean, trimEnd } from './text';

/** Lines longer than this are cut: a 200 MB line with no newline must not be held in memory. */
export const MAX_LINE_LENGTH = 64 * 1024;

/**
 * A batch of decoded lines as they come off the stream; `firstLine` is 1-based. Most lines are
 * ranges of the chunk's decoded `text` (`starts[i]` to `ends[i]`, trailing blanks and CR left
 * out), so that a reader that can read a line on its bytes makes no string of it; the others
 * (begun in an earlier chunk, cut at MAX_LINE_LENGTH, or changed by cleanLine) have `starts[i]`
 * -1 and their string in `held[i]`. lineAt gives any line as a string. A batch is good until the
 * next push or end: its ranges are arrays the reader fills again.
 */
export interface LineBatch {
  firstLine: number;
  /** Number of lines in the batch (the ranges' arrays may be longer). */
  count: number;
  /** The decoded chunk that the ranges index. */
  text: string;
  starts: Int32Array;
  ends: Int32Array;
  /** The lines that are no range of `text`, by index (sparse). */
  held: string[];
  /** 1-based numbers of lines that were cut at MAX_LINE_LENGTH. */
  truncated: number[];
  /** 1-based numbers of the lines that need cleanLine (in order); the others need trimEnd only. */
  dirty: number[];
  /**
   * The chunk's bytes when they mirror `text` one for one (ASCII): a range line's bytes are then
   * `bytes[starts[i]]` to `bytes[ends[i]]`.
   */
  bytes?: Uint8Array;
}

/** Line `i` of a batch as a string. */
export function lineAt(b: LineBatch, i: number): string {
  const s = b.starts[i];
  return s >= 0 ? b.text.slice(s, b.ends[i]) : b.held[i];
}

/** Length of line `i` of a batch, without making its string. */
export function lineLength(b: LineBatch, i: number): number {
  const s = b.starts[i];
  return s >= 0 ? b.ends[i] - s : b.held[i].length;
}

const SURROGATE = /[\ud800-\udfff]/;
const UNPAIRED = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The text with unpaired UTF-16 surrogates replaced by U+FFFD (String.prototype.toWellFormed, ES2024). */
function wellFormed(text: string): string {
  return SURROGATE.test(text) ? text.replace(UNPAIRED, '\ufffd') : text;
}

/**
 * Splits a byte stream into lines without ever holding more than one chunk and one line.
 *
 * Handles a UTF-8 or UTF-16 byte-order mark (WinDbg's `.logopen /u` writes UTF-16LE), CRLF and
 * LF endings, invalid UTF-8 (decoded as U+FFFD, never fatal), and lines of any length (cut at
 * MAX_LINE_LENGTH, the rest skipped up to the next newline). Pure: feed chunks, collect batches.
 */
export class LineReader {
  private decoder: StringDecoder | null = null;
  private partial = '';
  /** The line being read holds a character that cleanLine would change. */
  private partialDirty = false;
  private skipping = false;
  private nextLine = 1;
  private started = false;
  private bytes = 0;
  private utf16 = false;
  /** The ranges' arrays that every batch fills again (LineBatch). */
  private starts = new Int32Array(4096);
  private ends = new Int32Array(4096);

  /** Total bytes fed so far. */
  get bytesRead(): number {
    return this.bytes;
  }

  /** Number of complete lines produced so far. */
  get linesRead(): number {
    return this.nextLine - 1;
  }

  /** Decodes one chunk; returns the lines it completes. */
  push(chunk: Buffer | string): LineBatch {
    let text: string;
    let plain: boolean | undefined;
    let mirror: Uint8Array | undefined;
    if (typeof chunk === 'string') {
      this.bytes += Buffer.byteLength(chunk);
      text = wellFormed(chunk);
      if (!this.started) {
        this.started = true;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      }
    } else {
      this.bytes += chunk.length;
      if (!this.started) {
        this.started = true;
        let encoding: BufferEncoding = 'utf8';
        let skip = 0;
        if (chunk.length >= 2 && chunk[0] === 0xff && chunk[1] === 0xfe) {
          encoding = 'utf16le';
          this.utf16 = true;
          skip = 2;
        } else if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
          skip = 3;
        }
        this.decoder = new StringDecoder(encoding);
        chunk = skip ? chunk.subarray(skip) : chunk;
      }
      // Most transcripts are ASCII: a latin1 decode of an ASCII chunk is the same text, and several
      // times cheaper than the UTF-8 decoder. end() gives what the decoder held (the tail of a
      // character cut at the previous chunk's end, invalid before ASCII: U+FFFD, as write would).
      if (!this.utf16 && isAscii(chunk)) {
        const held = this.decoder!.end();
        text = held + chunk.toString('latin1');
        // No character cleanLine changes, found by native byte searches (< & tab \) instead of a regex.
        plain = held.length === 0 && chunk.indexOf(60) < 0 && chunk.indexOf(38) < 0 && chunk.indexOf(9) < 0 && chunk.indexOf(92) < 0;
        // A plain Uint8Array, as lineBytes' copies are: the recognisers then see one kind of array.
        if (held.length === 0) mirror = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
      } else text = this.decoder!.write(chunk);
      // UTF-16 may hold unpaired surrogates (the decoder keeps a pair split across chunks whole):
      // they become U+FFFD, as invalid UTF-8 does, so that every string is valid Unicode and
      // survives UTF-8 (Kafka messages, JSON) unchanged.
      if (this.utf16) text = wellFormed(text);
    }
    return this.split(text, false, plain, mirror);
  }

  /** Flushes the last line (a transcript need not end with a newline). */
  end(): LineBatch {
    const rest = this.decoder ? this.decoder.end() : '';
    return this.split(this.utf16 ? wellFormed(rest) : rest, true);
  }

  /**
   * `plain`: the caller knows that the text holds no character cleanLine changes; `mirror`: bytes
   * of which the text is the latin1 decoding.
   */
  private split(text: string, final: boolean, plain = false, mirror?: Uint8Array): LineBatch {
    const batch: LineBatch = { firstLine: this.nextLine, count: 0, text, starts: this.starts, ends: this.ends, held: [], truncated: [], dirty: [] };
    if (mirror !== undefined) batch.bytes = mirror;
    // Where the next character that cleanLine would change is: lines before it need trimEnd only.
    // A line carried over from the previous chunk keeps what it was found to hold (partialDirty).
    let dirtyAt = plain ? Infinity : nextCharToClean(text, 0);
    let pos = 0;
    const n = text.length;
    while (pos <= n) {
      const nl = text.indexOf('\n', pos);
      const end = nl < 0 ? n : nl;
      if (dirtyAt < end) {
        this.partialDirty = true;
        dirtyAt = nextCharToClean(text, end);
      }
      if (nl < 0) {
        this.appendPartial(text, pos, n);
        break;
      }
      if (this.partial.length === 0 && !this.skipping && nl - pos <= MAX_LINE_LENGTH) {
        // The common case, a whole line in this chunk: a range of it, trimmed as trimEnd would
        // (a line cleanLine changes is cleaned whole, by cleanBatch).
        let e = nl;
        if (this.partialDirty) batch.dirty.push(this.nextLine);
        else {
          while (e > pos) {
            const c = text.charCodeAt(e - 1);
            if (c !== 32 && c !== 13 && c !== 9) break;
            e--;
          }
        }
        if (batch.count === batch.starts.length) this.grow(batch);
        batch.starts[batch.count] = pos;
        batch.ends[batch.count] = this.partialDirty && e > pos && text.charCodeAt(e - 1) === 13 ? e - 1 : e;
        batch.count++;
        this.partialDirty = false;
        this.nextLine++;
      } else {
        this.appendPartial(text, pos, nl);
        this.emit(batch);
      }
      pos = nl + 1;
    }
    if (final && (this.partial.length > 0 || this.skipping)) this.emit(batch);
    return batch;
  }

  /** Doubles the ranges' arrays, which later batches reuse. */
  private grow(batch: LineBatch): void {
    const starts = new Int32Array(batch.starts.length * 2);
    const ends = new Int32Array(batch.ends.length * 2);
    starts.set(batch.starts);
    ends.set(batch.ends);
    batch.starts = this.starts = starts;
    batch.ends = this.ends = ends;
  }

  private appendPartial(text: string, from: number, to: number): void {
    if (this.skipping || from >= to) return;
    const room = MAX_LINE_LENGTH - this.partial.length;
    if (to - from <= room) {
      this.partial = this.partial.length === 0 ? text.slice(from, to) : this.partial + text.slice(from, to);
    } else {
      this.partial += text.slice(from, from + room);
      this.skipping = true;
    }
  }

  private emit(batch: LineBatch): void {
    // Said in the batch that holds the line: it may have been cut chunks before it ends.
    if (this.skipping) batch.truncated.push(this.nextLine);
    if (this.partialDirty) batch.dirty.push(this.nextLine);
    this.partialDirty = false;
    let line = this.partial;
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (batch.count === batch.starts.length) this.grow(batch);
    batch.held[batch.count] = batch.dirty[batch.dirty.length - 1] === this.nextLine ? line : trimEnd(line);
    batch.starts[batch.count] = -1;
    batch.ends[batch.count] = -1;
    batch.count++;
    this.partial = '';
    this.skipping = false;
    this.nextLine++;
  }
}

/** How a stream's first bytes look: a transcript, or something that cannot be one. */
export type Sniff = { ok: true } | { ok: false; reason: string };

/**
 * Decides from the first bytes whether an input can be a text transcript. Binary data (NUL bytes
 * outside UTF-16 text, or mostly control characters) is refused with a reason; empty input too.
 */
export function sniffTranscript(head: Buffer): Sniff {
  if (head.length === 0) return { ok: false, reason: 'empty input' };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { ok: true };
  if (head.length >= 4 && head.readUInt32LE(0) === 0x504d444d) {
    return { ok: false, reason: 'binary data (a minidump file, MDMP): run the debugger on it and submit the transcript' };
  }
  const magic = head.toString('latin1', 0, Math.min(8, head.length));
  if (magic === 'PAGEDU64' || magic === 'PAGEDUMP') {
    return { ok: false, reason: 'binary data (a kernel dump file): run the debugger on it and submit the transcript' };
  }
  let control = 0;
  const n = Math.min(head.length, 64 * 1024);
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0) return { ok: false, reason: `binary data (NUL byte at offset ${i}), not a text transcript` };
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 27) control++;
  }
  if (control > n / 10) return { ok: false, reason: 'binary data (mostly control characters), not a text transcript' };
  return { ok: true };
}

/**
 * Makes a batch's lines the cleaned lines the parser reads, in place: the lines LineReader marked
 * dirty go through cleanLine and become held strings (the others came trimmed already).
 */
export function cleanBatch(b: LineBatch): LineBatch {
  const { starts, ends, held, dirty, firstLine, text } = b;
  for (const lineNo of dirty) {
    const i = lineNo - firstLine;
    const s = starts[i];
    held[i] = cleanLine(s >= 0 ? text.slice(s, ends[i]) : held[i]);
    starts[i] = -1;
    ends[i] = -1;
  }
  return b;
}
