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
    this.fd ??= openSpillFile();
    const length = Buffer.byteLength(text);
    const offset = this.fileBytes + this.pendingBytes;
    if (length > this.pending.length - this.pendingBytes) this.flush();
    if (length > this.pending.length) {
      const bytes = Buffer.from(text);
      writeSync(this.fd, bytes, 0, length, offset);
      this.fileBytes += length;
    } else {
      this.pending.write(text, this.pendingBytes, 'utf8');
      this.pendingBytes += length;
    }
    return { offset, length };
  }

  get(ref: TextRef): string {
    if (ref.offset < 0) return this.memory[-ref.offset - 1];
    if (ref.offset >= this.fileBytes) {
      const at = ref.offset - this.fileBytes;
      return this.pending.toString('utf8', at, at + ref.length);
    }
    const bytes = Buffer.allocUnsafe(ref.length);
    let done = 0;
    while (done < ref.length) {
      const n = readSync(this.fd!, bytes, done, ref.length - done, ref.offset + done);
      if (n === 0) break;
      done += n;
    }
    return bytes.toString('utf8', 0, done);
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
    let done = 0;
    while (done < this.pendingBytes) done += writeSync(this.fd, this.pending, done, this.pendingBytes - done, this.fileBytes + done);
    this.fileBytes += this.pendingBytes;
    this.pendingBytes = 0;
  }
}

function openSpillFile(): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'dumpstream-'));
  const file = path.join(dir, 'stacks');
  const fd = openSync(file, 'w+', 0o600);
  // Unlinked at once: the data lives while the descriptor is open and nothing is left behind.
  rmSync(dir, { recursive: true, force: true });
  return fd;
}
