import type { SegmentIdentities } from '@dumpstream/graph';
import type { Facts, ProcessFact } from '@dumpstream/transcript';

/**
 * SegmentIdentities (what the graph's first pass reads of a segment's facts) in a few bytes of
 * their own, written when a segment's facts are encoded to be held: read back, they cost a string
 * per address and nothing else, where even a partial Avro decode walks every fact of the segment.
 *
 * Layout (little-endian): process count (u32), each process: flags (u8: 1 address, 2 pid), source
 * (u8, index in SOURCES), [address: byte length u16, UTF-8], [pid: f64]; thread count (u32), each
 * thread: flags (u8: 1 processAddress, 2 pid), [processAddress], [pid], wait objects (u32); stack
 * count (u32).
 */
const SOURCES: readonly ProcessFact['source'][] = ['process-block', 'owning-process', 'user-process', 'thread-listing', 'context'];

/** The segment's identities as bytes, or null when a fact does not fit the layout (then the caller decodes the facts instead). */
export function encodeIdentities(facts: Facts): Buffer | null {
  // Room for the worst case (UTF-8 writes at most 3 bytes a UTF-16 code unit): no measuring pass.
  let size = 12;
  for (const p of facts.processes) size += 12 + (p.address !== undefined ? 3 * p.address.length : 0);
  for (const t of facts.threads) size += 15 + (t.processAddress !== undefined ? 3 * t.processAddress.length : 0);
  const b = Buffer.allocUnsafe(size);
  let o = b.writeUInt32LE(facts.processes.length, 0);
  for (const p of facts.processes) {
    const source = SOURCES.indexOf(p.source);
    if (source < 0) return null;
    b[o] = (p.address !== undefined ? 1 : 0) | (p.pid !== undefined ? 2 : 0);
    b[o + 1] = source;
    o += 2;
    if (p.address !== undefined) {
      o = string(b, o, p.address);
      if (o < 0) return null;
    }
    if (p.pid !== undefined) o = b.writeDoubleLE(p.pid, o);
  }
  o = b.writeUInt32LE(facts.threads.length, o);
  for (const t of facts.threads) {
    b[o] = (t.processAddress !== undefined ? 1 : 0) | (t.pid !== undefined ? 2 : 0);
    o += 1;
    if (t.processAddress !== undefined) {
      o = string(b, o, t.processAddress);
      if (o < 0) return null;
    }
    if (t.pid !== undefined) o = b.writeDoubleLE(t.pid, o);
    o = b.writeUInt32LE(t.waitsOn.length, o);
  }
  o = b.writeUInt32LE(facts.stacks.length, o);
  return b.subarray(0, o);
}

/** Writes the string's UTF-8 after its byte length (u16); -1 when it is longer than that holds. */
function string(b: Buffer, o: number, s: string): number {
  if (3 * s.length > 0xffff) return -1;
  const n = b.write(s, o + 2, 'utf8');
  b[o] = n & 0xff;
  b[o + 1] = n >>> 8;
  return o + 2 + n;
}

/** The identities that encodeIdentities wrote. */
export function decodeIdentities(b: Buffer): SegmentIdentities {
  let o = 0;
  const processCount = b.readUInt32LE(o);
  o += 4;
  const processes: SegmentIdentities['processes'][number][] = new Array(processCount);
  for (let i = 0; i < processCount; i++) {
    const flags = b[o];
    const p: { address?: string; pid?: number; source: ProcessFact['source'] } = { source: SOURCES[b[o + 1]] };
    o += 2;
    if (flags & 1) {
      const n = b.readUInt16LE(o);
      p.address = b.toString('utf8', o + 2, o + 2 + n);
      o += 2 + n;
    }
    if (flags & 2) {
      p.pid = b.readDoubleLE(o);
      o += 8;
    }
    processes[i] = p;
  }
  const threadCount = b.readUInt32LE(o);
  o += 4;
  const threads: SegmentIdentities['threads'][number][] = new Array(threadCount);
  for (let i = 0; i < threadCount; i++) {
    const flags = b[o];
    o += 1;
    const t: { processAddress?: string; pid?: number; waitsOn: { length: number } } = { waitsOn: { length: 0 } };
    if (flags & 1) {
      const n = b.readUInt16LE(o);
      t.processAddress = b.toString('utf8', o + 2, o + 2 + n);
      o += 2 + n;
    }
    if (flags & 2) {
      t.pid = b.readDoubleLE(o);
      o += 8;
    }
    t.waitsOn.length = b.readUInt32LE(o);
    o += 4;
    threads[i] = t;
  }
  return { processes, threads, stacks: { length: b.readUInt32LE(o) } };
}
