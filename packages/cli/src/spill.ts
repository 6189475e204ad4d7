import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { StackTextStore } from '@dumpstream/graph';
import type { TextRef } from '@dumpstream/transcript';

/** Text kept in memory before the store starts writing to its file. */
const DEFAULT_MEMORY_BYTES = 4 * 1024 * 1024;
/** Writes to the file go in pieces of this size. */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * Reads from the file go in windows of this size: a report reads stacks back in the order they
 * were written, and resolve the held facts, so one read serves the many small references after
 * it (a read per stack: 126 k reads for `analyze --format json` of a 277 MB frame-heavy dump, 4.7 k
 * this way, and 8-10 % less time).
 */
const READ_WINDOW_BYTES = 1024 * 1024;

/**
 * Where `analyze` keeps stacks' text while it reads a dump: in memory up to a budget, then in a
 * temporary file, so that memory grows with the process graph and not with the frames (a 2 GB
 * kernel dump transcript holds over a gigabyte of frame lines). Reports read stacks back by
 * offset. The file is deleted as soon as it is opened (it lives while the store is open).
 *
 * In-memory texts have references with a negative offset: -(index + 1).
 */
export class StackSpill implements StackTextStore {
  private readonly memory: string[] = [];
  private memoryBytes = 0;
  private fd: number | null = null;
  private fileBytes = 0;
  private readonly pending: Buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private pendingBytes = 0;
  /** The last window read from the file: `windowBytes` bytes of `window` from file offset `windowAt`. */
  private window: Buffer = Buffer.alloc(0);
  private windowAt = 0;
  private windowBytes = 0;

  constructor(private readonly memoryBudget = DEFAULT_MEMORY_BYTES) {}

  put(text: string): TextRef {
    if (this.fd === null && this.memoryBytes + text.length <= this.memoryBudget) {
      this.memory.push(text);
      this.memoryBytes += text.length;
      return { offset: -this.memory.length, length: text.length };
    }
    const length = Buffer.byteLength(text);
    if (length > this.pending.length) return this.putBytes(Buffer.from(text));
    const offset = this.reserve(length);
    this.pending.write(text, this.pendingBytes, 'utf8');
    this.pendingBytes += length;
    return { offset, length };
  }

  /**
   * Keeps bytes in the file, never in memory: a large dump's held facts (EncodedFacts), which
   * would otherwise sit in memory the allocator keeps after they are read and let go.
   */
  putBytes(bytes: Uint8Array): TextRef {
    const length = bytes.length;
    if (length > this.pending.length) {
      this.fd ??= openSpillFile();
      this.flush();
      const offset = this.fileBytes;
      writeAll(this.fd, bytes, offset);
      this.fileBytes += length;
      return { offset, length };
    }
    const offset = this.reserve(length);
    this.pending.set(bytes, this.pendingBytes);
    this.pendingBytes += length;
    return { offset, length };
  }

  get(ref: TextRef): string {
    if (ref.offset < 0) return this.memory[-ref.offset - 1];
    if (ref.offset >= this.fileBytes) {
      const at = ref.offset - this.fileBytes;
      return this.pending.toString('utf8', at, at + ref.length);
    }
    const { bytes, at } = this.readFile(ref);
    return bytes.toString('utf8', at, at + ref.length);
  }

  /** Bytes kept by putBytes. */
  getBytes(ref: TextRef): Buffer {
    if (ref.offset >= this.fileBytes) {
      const at = ref.offset - this.fileBytes;
      return Buffer.from(this.pending.subarray(at, at + ref.length));
    }
    const { bytes, at } = this.readFile(ref);
    // A copy: the window is read over by the next miss.
    return Buffer.from(bytes.subarray(at, at + ref.length));
  }

  /**
   * Opens the file if need be and makes room for `length` bytes in the pending buffer (flushing
   * it when they do not fit): returns the file offset they will have.
   */
  private reserve(length: number): number {
    this.fd ??= openSpillFile();
    if (length > this.pending.length - this.pendingBytes) this.flush();
    return this.fileBytes + this.pendingBytes;
  }

  /**
   * The bytes of a reference written to the file: in `bytes` from `at`. From the window when it
   * holds them, else from a new window read from the reference on (a reference longer than a
   * window gets one of its own size). The file only grows behind the pending buffer, so a window
   * never goes stale.
   */
  private readFile(ref: TextRef): { bytes: Buffer; at: number } {
    const end = ref.offset + ref.length;
    if (ref.offset < this.windowAt || end > this.windowAt + this.windowBytes) {
      const size = Math.min(Math.max(READ_WINDOW_BYTES, ref.length), this.fileBytes - ref.offset);
      // One window's buffer, reused; a longer reference gets a buffer of its own for its read.
      if (this.window.length !== Math.max(size, READ_WINDOW_BYTES)) this.window = Buffer.allocUnsafe(Math.max(size, READ_WINDOW_BYTES));
      let done = 0;
      while (done < size) {
        const n = readSync(this.fd!, this.window, done, size - done, ref.offset + done);
        if (n === 0) break;
        done += n;
      }
      if (done < ref.length) throw new Error(`stack spill file: ${ref.length} bytes at offset ${ref.offset} asked for, ${done} read`);
      this.windowAt = ref.offset;
      this.windowBytes = done;
    }
    return { bytes: this.window, at: ref.offset - this.windowAt };
  }

  /** Bytes written to the temporary file (0 while everything fits in memory). */
  get spilledBytes(): number {
    return this.fileBytes + this.pendingBytes;
  }

  /** Closes (and so removes) the temporary file. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private flush(): void {
    if (this.pendingBytes === 0 || this.fd === null) return;
    writeAll(this.fd, this.pending.subarray(0, this.pendingBytes), this.fileBytes);
    this.fileBytes += this.pendingBytes;
    this.pendingBytes = 0;
  }
}

function writeAll(fd: number, bytes: Uint8Array, offset: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
}

function openSpillFile(): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'dumpstream-'));
  const file = path.join(dir, 'stacks');
  const fd = openSync(file, 'w+', 0o600);
  // Unlinked at once: the data lives while the descriptor is open and nothing is left behind.
  rmSync(dir, { recursive: true, force: true });
  return fd;
}
