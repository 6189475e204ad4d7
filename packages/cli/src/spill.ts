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
    const bytes = this.readFile(ref);
    return bytes.toString('utf8');
  }

  /** Bytes kept by putBytes. */
  getBytes(ref: TextRef): Buffer {
    if (ref.offset >= this.fileBytes) {
      const at = ref.offset - this.fileBytes;
      return Buffer.from(this.pending.subarray(at, at + ref.length));
    }
    return this.readFile(ref);
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

  private readFile(ref: TextRef): Buffer {
    const bytes = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const n = readSync(this.fd!, bytes, done, ref.length - done, ref.offset + done);
      if (n === 0) break;
      done += n;
    }
    return done === ref.length ? bytes : bytes.subarray(0, done);
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
