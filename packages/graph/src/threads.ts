import type { ThreadFact, WaitObject } from '@dumpstream/transcript';
import type { ThreadNode } from './graph';
import { grown, Words } from './columns';
import type { StackTable } from './stacks';

/**
 * The threads of a dump as columns: a row per thread, numbers in typed arrays (NaN for null),
 * words (states, wait reasons and modes, object types) as indices into one table of distinct
 * strings, waits in flat columns. A dump of a million threads holds a few dozen bytes per thread
 * here, where an object per thread and per wait held several hundred; ThreadNode objects are built
 * only when a process's threads are read (`node`), and are garbage once read.
 */
export class ThreadTable {
  count = 0;
  private capacity = 0;
  readonly address: (string | null)[] = [];
  line = new Float64Array(0);
  tid = new Float64Array(0);
  pid = new Float64Array(0);
  index = new Float64Array(0);
  private state = new Uint32Array(0);
  private waitReason = new Uint32Array(0);
  private waitMode = new Uint32Array(0);
  private notResident = new Uint8Array(0);
  private readonly names = new Map<number, string>();
  /** The row of each thread's stack in the stack table (-1: none). */
  stackRow = new Int32Array(0);
  /** Each row's waits: waitCount of them from waitStart in the wait columns, or (count -1) in `moreWaits`. */
  private waitStart = new Int32Array(0);
  private waitCount = new Int32Array(0);
  /**
   * Each wait's address as two 32-bit halves when it is 16 lowercase hex digits (as kernel
   * debuggers print them), the low half alone when 8 (`waitForm` 16 or 8); any other string
   * (form 0) in `otherAddresses`. A string per wait weighed more than the thread's columns.
   */
  private waitHigh = new Uint32Array(0);
  private waitLow = new Uint32Array(0);
  private waitForm = new Uint8Array(0);
  private readonly otherAddresses = new Map<number, string>();
  private waitType = new Uint32Array(0);
  private waits = 0;
  /** A thread whose waits came in more than one fact: rare, kept as objects. */
  private readonly moreWaits = new Map<number, WaitObject[]>();
  private readonly words = new Words();

  /** Sized for `rows` threads and `waits` waits (their facts' count, known before: no copy as the table grows). */
  constructor(
    private readonly stacks: StackTable,
    rows = 0,
    waits = 0,
  ) {
    if (rows > 0) this.grow(rows);
    if (waits > 0) this.growWaits(waits);
  }

  /** A new row, all null, for a thread first seen at `line`; returns its index. */
  add(address: string | null, line: number): number {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.address.push(address);
    this.stackRow[i] = -1;
    this.line[i] = line;
    this.tid[i] = NaN;
    this.pid[i] = NaN;
    this.index[i] = NaN;
    return i;
  }

  /** Folds a fact of thread `i` in: the first value of each field stays, waits are added once each. */
  merge(i: number, t: ThreadFact, pidOfProcess: number | undefined): void {
    if (Number.isNaN(this.tid[i]) && t.tid !== undefined && t.tid !== null) this.tid[i] = t.tid;
    const pid = t.pid ?? pidOfProcess;
    if (Number.isNaN(this.pid[i]) && pid !== undefined && pid !== null) this.pid[i] = pid;
    if (this.state[i] === 0 && t.state !== undefined) this.state[i] = this.words.id(t.state);
    if (this.waitReason[i] === 0 && t.waitReason !== undefined) this.waitReason[i] = this.words.id(t.waitReason);
    if (this.waitMode[i] === 0 && t.waitMode !== undefined) this.waitMode[i] = this.words.id(t.waitMode);
    if (Number.isNaN(this.index[i]) && t.index !== undefined && t.index !== null) this.index[i] = t.index;
    if (t.name !== undefined && t.name !== null && !this.names.has(i)) this.names.set(i, t.name);
    if (t.stackNotResident) this.notResident[i] = 1;
    if (t.waitsOn.length > 0) this.addWaits(i, t.waitsOn);
  }

  /** The thread's pid, or null. */
  pidOf(i: number): number | null {
    return Number.isNaN(this.pid[i]) ? null : this.pid[i];
  }

  tidOf(i: number): number | null {
    return Number.isNaN(this.tid[i]) ? null : this.tid[i];
  }

  indexOf(i: number): number | null {
    return Number.isNaN(this.index[i]) ? null : this.index[i];
  }

  /** The thread as a ThreadNode, built afresh. */
  node(i: number): ThreadNode {
    return {
      address: this.address[i],
      tid: this.tidOf(i),
      pid: this.pidOf(i),
      state: this.words.at(this.state[i]),
      waitReason: this.words.at(this.waitReason[i]),
      waitMode: this.words.at(this.waitMode[i]),
      waitsOn: this.waitsOf(i),
      index: this.indexOf(i),
      name: this.names.get(i) ?? null,
      stackNotResident: this.notResident[i] === 1,
      stack: this.stackRow[i] < 0 ? null : this.stacks.text(this.stackRow[i]),
      line: this.line[i],
    };
  }

  private waitsOf(i: number): WaitObject[] {
    const n = this.waitCount[i];
    if (n < 0) return this.moreWaits.get(i)!.map((w) => ({ address: w.address, type: w.type }));
    const out: WaitObject[] = new Array(n);
    for (let k = 0; k < n; k++) out[k] = { address: this.waitAddressOf(this.waitStart[i] + k), type: this.words.at(this.waitType[this.waitStart[i] + k])! };
    return out;
  }

  private addWaits(i: number, waits: WaitObject[]): void {
    const n = this.waitCount[i];
    if (n === 0 && waits.every((w, k) => waits.findIndex((x) => x.address === w.address) === k)) {
      // The usual case: one fact gives the thread all its waits, in the flat columns.
      this.waitStart[i] = this.waits;
      this.waitCount[i] = waits.length;
      for (const w of waits) {
        if (this.waits === this.waitType.length) this.growWaits(Math.max(1024, this.waits * 2));
        this.setWaitAddress(this.waits, w.address);
        this.waitType[this.waits++] = this.words.id(w.type);
      }
      return;
    }
    const list = this.waitsOf(i);
    const before = list.length;
    for (const w of waits) if (!list.some((x) => x.address === w.address)) list.push({ address: w.address, type: w.type });
    if (list.length === before && n >= 0) return;
    this.moreWaits.set(i, list);
    this.waitCount[i] = -1;
  }

  private setWaitAddress(k: number, a: string): void {
    const form = a.length === 16 || a.length === 8 ? a.length : 0;
    let high = 0;
    let low = 0;
    for (let c = 0; c < form; c++) {
      const d = hexDigit(a.charCodeAt(c));
      if (d < 0) {
        this.waitForm[k] = 0;
        this.otherAddresses.set(k, a);
        return;
      }
      if (c < form - 8) high = high * 16 + d;
      else low = low * 16 + d;
    }
    if (form === 0) {
      this.otherAddresses.set(k, a);
      return;
    }
    this.waitForm[k] = form;
    this.waitHigh[k] = high;
    this.waitLow[k] = low;
  }

  private waitAddressOf(k: number): string {
    const form = this.waitForm[k];
    if (form === 0) return this.otherAddresses.get(k)!;
    const low = this.waitLow[k].toString(16).padStart(8, '0');
    return form === 8 ? low : this.waitHigh[k].toString(16).padStart(8, '0') + low;
  }

  private growWaits(capacity: number): void {
    this.waitType = grown(this.waitType, capacity);
    this.waitHigh = grown(this.waitHigh, capacity);
    this.waitLow = grown(this.waitLow, capacity);
    this.waitForm = grown(this.waitForm, capacity);
  }

  private grow(capacity = Math.max(1024, this.capacity * 2)): void {
    const c = capacity;
    this.line = grown(this.line, c);
    this.tid = grown(this.tid, c);
    this.pid = grown(this.pid, c);
    this.index = grown(this.index, c);
    this.state = grown(this.state, c);
    this.waitReason = grown(this.waitReason, c);
    this.waitMode = grown(this.waitMode, c);
    this.notResident = grown(this.notResident, c);
    this.waitStart = grown(this.waitStart, c);
    this.waitCount = grown(this.waitCount, c);
    this.stackRow = grown(this.stackRow, c);
    this.capacity = c;
  }
}

/** The value of a lowercase hex digit, or -1 (uppercase is not what the address said: it stays a string). */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}
