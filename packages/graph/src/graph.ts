import type { CommandLineFact, Facts, Frame, Owner, ProcessFact, StackFact, SystemFacts, TextRef, ThreadFact, ThreadState, UnparsedLine, WaitObject, Warning } from '@dumpstream/transcript';
import { imageFromCommandLine, intern, MAX_UNPARSED_SAMPLE, own, readStackFrames } from '@dumpstream/transcript';
import { StackTable } from './stacks';
import { ThreadTable } from './threads';

/** Warnings a dump keeps in full; the rest are counted. */
export const MAX_DUMP_WARNINGS = 200;

/**
 * Facts a dump may hold before the rest of it is left out (processes, threads, stacks and command
 * lines, and frames sixteen to a fact: counted by `factCount`). It bounds the memory of a report
 * whatever the input. A frame is a line of text, built into an object only when a report renders
 * it, so sixteen frames weigh about what a thread does; the whole 2 GB benchmark transcript
 * (160 k processes, 935 k threads, 11.8 M frames) counts 2.8 M and is read whole.
 */
export const DEFAULT_MAX_FACTS = 3_000_000;

/** Frames that count as one fact: a frame's text weighs about a sixteenth of a thread's objects. */
export const FRAMES_PER_FACT = 16;

/** What one segment adds to a dump's memory: each process, thread, stack and command line, and its frames, FRAMES_PER_FACT to a fact. */
export function factCount(f: Facts): number {
  let frames = 0;
  for (const s of f.stacks) frames += s.frames !== undefined && s.frames.length > 0 ? s.frames.length : s.frameCount;
  return f.processes.length + f.threads.length + f.stacks.length + f.commandLines.length + Math.ceil(frames / FRAMES_PER_FACT);
}

export interface DumpGraphOptions {
  /** Facts kept before the rest of the transcript is left out, with a warning (default DEFAULT_MAX_FACTS). */
  maxFacts?: number;
  /**
   * Where stacks' text goes while the dump is read, so that memory holds the graph and not the
   * frames (the embedded pipeline spills it to a file); by default it stays in the facts.
   */
  stackText?: StackTextStore;
  /** Where the facts of held segments wait for resolve() (default: as they are). */
  heldFacts?: HeldFactsStore;
  /** Unparsed lines the dump keeps with their text, the first in transcript order (default MAX_UNPARSED_SAMPLE). */
  keepUnparsed?: number;
}

/**
 * Holds the facts of the segments a dump keeps until it is resolved, perhaps in a compact form
 * (the embedded pipeline encodes them once a dump is large): `get` gives them back as they were.
 */
export interface HeldFactsStore {
  put(facts: Facts): HeldFacts;
  get(held: HeldFacts): Facts;
  /**
   * What resolve's first pass reads of the facts (SegmentIdentities), if the store can give it for
   * less than `get` (without decoding the rest); else the first pass reads `get`'s facts.
   */
  identities?(held: HeldFacts): SegmentIdentities;
}

/**
 * What the first pass of resolveFacts reads of a segment's facts: which pid each EPROCESS and
 * ETHREAD address is, and how many threads, wait objects and stacks the tables need. Facts are
 * SegmentIdentities.
 */
export interface SegmentIdentities {
  processes: readonly Pick<ProcessFact, 'address' | 'pid' | 'source'>[];
  /** Of a thread's wait objects, and of the stacks, only the number is read. */
  threads: readonly (Pick<ThreadFact, 'processAddress' | 'pid'> & { waitsOn: { readonly length: number } })[];
  stacks: { readonly length: number };
}

/** What a HeldFactsStore returns for a segment's facts (the facts themselves, or its own form). */
export type HeldFacts = Facts | { readonly held: unknown };

/** Keeps stacks' text out of memory: `put` returns where it went, `get` reads it back. */
export interface StackTextStore {
  put(text: string): TextRef;
  get(ref: TextRef): string;
}

/**
 * The facts of one dump, as merged so far. Merging is keyed by segment: merging a segment's facts
 * twice, or segments in any order, gives the same graph. `resolve()` reads the merged facts in
 * transcript order and builds the process graph.
 *
 * A dump keeps the longest run of segments from the first whose facts fit in `maxFacts`; the
 * segment that would pass it and all after it are left out (and the report says from which line).
 * It never holds more than that: when the segments held pass the limit, the last of them goes and
 * nothing from it on is taken again. Whatever the order of merges, what is left is the same run
 * (each segment that goes is past the run, and the run's own segments always fit), so the cut
 * depends only on the segments' contents; a segment that never arrives counts as empty.
 */
export class DumpGraph {
  private readonly segments = new Map<number, HeldFacts>();
  /** Segments merged, including those left out: merging is idempotent. */
  private readonly seen = new Set<number>();
  private readonly maxFacts: number;
  private readonly store: StackTextStore | null;
  private readonly heldFacts: HeldFactsStore | null;
  private readonly keepUnparsed: number;
  /** Facts of the segments held, as parsed (before repeated facts were dropped): the limit counts these. */
  private held = 0;
  private readonly counts = new Map<number, number>();
  /** The first held ProcessFact of each EPROCESS address (and source), slimmed: a later one equal to it adds nothing. */
  private readonly firstProcess = new Map<ProcessFact['source'], Map<string, FirstFact>>();
  /** The first fact that compact found or held last: where it looks first for the next one (FirstFact.next). */
  private lastFirst: FirstFact | undefined = undefined;
  /** The first segment left out, once the segments held passed maxFacts. */
  private cut: number | null = null;
  /** Resolved with release: the facts are gone. */
  private released = false;

  constructor(options: DumpGraphOptions = {}) {
    this.maxFacts = options.maxFacts ?? DEFAULT_MAX_FACTS;
    this.store = options.stackText ?? null;
    this.heldFacts = options.heldFacts ?? null;
    this.keepUnparsed = options.keepUnparsed ?? MAX_UNPARSED_SAMPLE;
  }

  /**
   * Folds one segment's facts in. Idempotent; commutative with every other merge. With a
   * stackText store, the stacks' text of the facts given is moved into it (they are changed).
   */
  merge(facts: Facts): void {
    if (this.released) throw new Error('DumpGraph: merged into after a resolve with release');
    if (this.seen.has(facts.segment)) return;
    this.seen.add(facts.segment);
    if (this.cut !== null && facts.segment >= this.cut) return;
    if (this.store !== null) {
      for (const st of facts.stacks) {
        if (st.text.length === 0) continue;
        st.textRef = this.store.put(st.text);
        st.text = '';
      }
    }
    const count = factCount(facts);
    const compacted = this.compact(facts);
    this.segments.set(facts.segment, this.heldFacts === null ? compacted : this.heldFacts.put(compacted));
    this.counts.set(facts.segment, count);
    this.held += count;
    while (this.held > this.maxFacts) {
      let last = -1;
      for (const k of this.segments.keys()) if (k > last) last = k;
      this.held -= this.counts.get(last)!;
      this.segments.delete(last);
      this.counts.delete(last);
      this.cut = last;
      for (const bySource of this.firstProcess.values()) {
        for (const [key, first] of bySource) {
          if (first.segment !== last) continue;
          bySource.delete(key);
          first.gone = true;
        }
      }
    }
  }

  /**
   * Drops the process facts that repeat one held from earlier in the transcript (a process listing
   * printed again and again: a WER storm's `!process 0 0` in a loop), so that memory grows with
   * the processes, not with the listings. resolveFacts reads each process's first fact and the
   * first value of each field, so an equal later fact changes nothing; if the earlier one is ever
   * left out past the limit, so is every later segment. Facts are dropped only after an earlier
   * one, so merging in any order gives the same graph. The facts kept lose their details, which
   * the graph does not read.
   */
  private compact(facts: Facts): Facts {
    let kept: ProcessFact[] | null = null;
    const list = facts.processes;
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      let drop = false;
      if (p.address !== undefined) {
        // A listing printed again lists the processes in the order it did before: the fact that
        // followed the last one found is tried first, which costs a comparison where the map's
        // look-up of a new string costs a hash of it (a tenth of a storm listing's time).
        const guess = this.lastFirst?.next;
        let first: FirstFact | undefined;
        if (guess !== undefined && guess.address === p.address && guess.source === p.source && !guess.gone) first = guess;
        else {
          first = this.firstOf(p.source).get(p.address);
          if (first !== undefined && this.lastFirst !== undefined) this.lastFirst.next = first;
        }
        if (first === undefined || first.segment > facts.segment) {
          const slim = slimProcessFact(p, facts.segment);
          // Each thread's `Owning Process` line makes a fact too: keyed apart from the block's.
          this.firstOf(p.source).set(slim.address!, slim);
          if (first !== undefined) first.gone = true;
          if (this.lastFirst !== undefined) this.lastFirst.next = slim;
          first = slim;
        } else drop = sameProcessFact(first, p);
        this.lastFirst = first;
      }
      // The list is copied from the first fact dropped or changed (the ones before are as they were).
      if (kept === null && (drop || p.details !== undefined)) kept = list.slice(0, i);
      if (!drop && kept !== null) kept.push(p.details === undefined ? p : withoutDetails(p));
    }
    return kept === null ? facts : { ...facts, processes: kept };
  }

  /** The first facts held of one source, by address. */
  private firstOf(source: ProcessFact['source']): Map<string, FirstFact> {
    let bySource = this.firstProcess.get(source);
    if (bySource === undefined) this.firstProcess.set(source, (bySource = new Map()));
    return bySource;
  }

  /** Segments merged so far (including any left out past the fact limit). */
  get segmentCount(): number {
    return this.seen.size;
  }

  /** The first segment left out for passing the fact limit, or null while everything fits. */
  get cutAt(): number | null {
    return this.cut;
  }

  /** True when segments 0 … n-1 are all merged. */
  hasAll(n: number): boolean {
    if (this.seen.size < n) return false;
    for (let i = 0; i < n; i++) if (!this.seen.has(i)) return false;
    return true;
  }

  /**
   * Builds the process graph from everything merged so far, up to the fact limit. With `release`,
   * each segment's facts are let go as soon as the graph has read them for the last time, so that
   * the held facts and the graph they become are not both in memory at the end: the dump can then
   * be neither merged into nor resolved again.
   */
  resolve(options: { release?: boolean } = {}): ResolvedDump {
    if (this.released) throw new Error('DumpGraph: resolved with release already');
    const keys = [...this.segments.keys()].sort((a, b) => a - b);
    const held = this.heldFacts;
    const segments = this.segments;
    const factsOf = (k: number): Facts => (held === null ? (segments.get(k) as Facts) : held.get(segments.get(k)!));
    // Every segment held is before the cut: the last one says where the report stops.
    const lastHeld = this.cut !== null && keys.length > 0 ? factsOf(keys[keys.length - 1]) : undefined;
    const covered = lastHeld ? lastHeld.firstLine + lastHeld.lineCount - 1 : 0;
    const release = options.release === true;
    if (release) {
      this.released = true;
      this.firstProcess.clear();
      this.lastFirst = undefined;
      this.counts.clear();
    }
    // Read twice by resolveFacts, one segment at a time: held facts are decoded as they are read
    // (the first pass only what it reads, when the store can), and with release dropped once the
    // second reading is past them.
    const identitiesOf = held?.identities?.bind(held);
    let passes = 0;
    const dump = resolveFacts(
      {
        *[Symbol.iterator]() {
          // Read once after the identities, or twice when they are these facts.
          const last = release && (identitiesOf !== undefined || ++passes === 2);
          for (const k of keys) {
            const f = factsOf(k);
            if (last) segments.delete(k);
            yield f;
          }
        },
      },
      this.store,
      this.keepUnparsed,
      identitiesOf === undefined
        ? undefined
        : {
            *[Symbol.iterator]() {
              for (const k of keys) yield identitiesOf(segments.get(k)!);
            },
          },
    );
    if (this.cut !== null) {
      // First, so that it is never among the warnings counted but not kept.
      dump.warnings.unshift({
        line: covered + 1,
        kind: 'facts-capped',
        text: `the dump holds more than ${this.maxFacts} facts (processes, threads, stacks, command lines, frames ${FRAMES_PER_FACT} to a fact): ${covered > 0 ? `the report covers lines 1-${covered}, ` : ''}the transcript from line ${covered + 1} on was left out`,
      });
      if (dump.warnings.length > MAX_DUMP_WARNINGS) dump.warnings.pop();
      dump.stats.warnings++;
    }
    return dump;
  }
}

/**
 * A process fact without its `!process` detail lines (`VadRoot`, `ElapsedTime`, …, a kilobyte a
 * process): the graph never reads them, so its facts wait without them.
 */
function withoutDetails(p: ProcessFact): ProcessFact {
  const { details: _, ...rest } = p;
  return rest;
}

/**
 * The first fact held of a process, slimmed (slimProcessFact), and its segment; `next`, the first
 * fact found after it the last time it was found; `gone`, no longer held (replaced by an earlier
 * segment's, or left out past the limit), so never a guess.
 */
type FirstFact = ProcessFact & { segment: number; next?: FirstFact; gone?: boolean };

/**
 * What sameProcessFact compares of the first fact of a process, in strings of its own: a fact's
 * strings are views into the text they were parsed from, and its details are not compared.
 */
function slimProcessFact(p: ProcessFact, segment: number): FirstFact {
  const out: FirstFact = { line: p.line, source: p.source, segment };
  if (p.address !== undefined) out.address = own(p.address);
  if (p.pid !== undefined) out.pid = p.pid;
  if (p.parentPid !== undefined) out.parentPid = p.parentPid;
  if (p.sessionId !== undefined) out.sessionId = p.sessionId;
  if (p.peb !== undefined) out.peb = own(p.peb);
  if (p.handleCount !== undefined) out.handleCount = p.handleCount;
  if (p.image !== undefined) out.image = intern(p.image);
  if (p.objectTable !== undefined) out.objectTable = own(p.objectTable);
  return out;
}

/**
 * Two facts that say the same of a process, as far as the graph reads them (their lines and their
 * details aside: a later fact that differs only there changes nothing in the graph).
 */
function sameProcessFact(a: ProcessFact, b: ProcessFact): boolean {
  if (
    a.address !== b.address ||
    a.pid !== b.pid ||
    a.parentPid !== b.parentPid ||
    a.sessionId !== b.sessionId ||
    a.peb !== b.peb ||
    a.handleCount !== b.handleCount ||
    a.image !== b.image ||
    a.objectTable !== b.objectTable ||
    a.source !== b.source
  ) {
    return false;
  }
  return true;
}

export interface ThreadNode {
  address: string | null;
  tid: number | null;
  pid: number | null;
  state: ThreadState | string | null;
  waitReason: string | null;
  waitMode: string | null;
  waitsOn: WaitObject[];
  index: number | null;
  name: string | null;
  stackNotResident: boolean;
  /** The thread's stack: printed in its block, or else the first stack attributed to it (its frames: stackFrames). */
  stack: StackText | null;
  line: number;
}

/**
 * A stack's frames as the text they were printed in: the text of each segment it spans, in
 * order. stackFrames builds the frames.
 */
export interface StackText {
  parts: StackTextPart[];
  frameCount: number;
}

/** What a stack fact says of its frames: all that the graph keeps of it. */
export type StackTextPart = Pick<StackFact, 'text' | 'textLine' | 'layout' | 'frameCount' | 'textRef' | 'frames'>;

export interface ProcessNode {
  address: string | null;
  pid: number | null;
  parentPid: number | null;
  image: string | null;
  sessionId: number | null;
  handleCount: number | null;
  peb: string | null;
  commandLine: string | null;
  /**
   * Its threads in transcript order. In a resolved dump they are built afresh from the graph's
   * columns each time this is read (a million threads are not kept as objects): read it once
   * where it is used, and change nothing in it.
   */
  threads: ThreadNode[];
  /** First line that mentions the process. */
  line: number;
  /** True when the transcript printed the process's own PROCESS block or `|` line. */
  listed: boolean;
}

/** A stack printed outside any process block, with the context it belongs to. */
export interface AttributedStack {
  line: number;
  pid: number | null;
  tid: number | null;
  processAddress: string | null;
  threadAddress: string | null;
  machine: string | null;
  elided: boolean;
  stack: StackText;
}

export interface DumpStats {
  lines: number;
  processes: number;
  threads: number;
  frames: number;
  unparsedLines: number;
  warnings: number;
}

/** The process graph of one dump. */
export interface ResolvedDump {
  system: SystemFacts;
  processes: ProcessNode[];
  /** Stacks printed outside a process block (`k`, `~*k`, …). */
  stacks: AttributedStack[];
  /** Command lines that could not be given to any process. */
  orphanCommandLines: CommandLineFact[];
  warnings: Warning[];
  /** The first lines not understood, in transcript order (stats.unparsedLines counts them all). */
  unparsed: UnparsedLine[];
  stats: DumpStats;
  /** Where the stacks' text is, when it was moved out of the facts (see DumpGraphOptions.stackText); read with stackFrames. */
  stackText: StackTextStore | null;
}

/**
 * A stack's owner with the same fields, its addresses the graph's own strings: the thread's, once
 * the thread is known, and one string per process address.
 */
function slimOwner(o: Owner, shared: (a: string | undefined) => string | undefined, threads: Map<string, number>, table: ThreadTable): Owner {
  const out: Owner = {};
  if (o.processAddress !== undefined) out.processAddress = shared(o.processAddress);
  if (o.pid !== undefined) out.pid = o.pid;
  if (o.threadAddress !== undefined) {
    const t = threads.get(o.threadAddress);
    out.threadAddress = t !== undefined && table.address[t] === o.threadAddress ? table.address[t]! : o.threadAddress;
  }
  if (o.tid !== undefined) out.tid = o.tid;
  if (o.threadIndex !== undefined) out.threadIndex = o.threadIndex;
  if (o.peb !== undefined) out.peb = o.peb;
  return out;
}

/** The owner of a stack printed in a thread's block, as its fact had it. */
function ownerOf(processAddress: string | undefined, threadAddress: string): Owner {
  return processAddress !== undefined ? { processAddress, threadAddress } : { threadAddress };
}

/** Reads a process's threads out of the graph's columns. */
const THREADS: PropertyDescriptor = {
  get(this: GraphProcess): ThreadNode[] {
    return this.threadNodes();
  },
  enumerable: true,
};

/**
 * A process of a resolved dump. Its `threads` is an accessor of its own (so that it is compared,
 * spread and listed like a field) that builds them from the thread table.
 */
class GraphProcess implements ProcessNode {
  address: string | null = null;
  pid: number | null = null;
  parentPid: number | null = null;
  image: string | null = null;
  sessionId: number | null = null;
  handleCount: number | null = null;
  peb: string | null = null;
  commandLine: string | null = null;
  declare readonly threads: ThreadNode[];
  line: number;
  listed = false;
  readonly #table: ThreadTable;
  #order: Int32Array | null = null;
  #start = 0;
  #count = 0;

  constructor(table: ThreadTable, line: number) {
    Object.defineProperty(this, 'threads', THREADS);
    this.line = line;
    this.#table = table;
  }

  setThreads(order: Int32Array, start: number, count: number): void {
    this.#order = order;
    this.#start = start;
    this.#count = count;
  }

  get threadCount(): number {
    return this.#count;
  }

  threadNodes(): ThreadNode[] {
    const out: ThreadNode[] = new Array(this.#count);
    for (let k = 0; k < this.#count; k++) out[k] = this.#table.node(this.#order![this.#start + k]);
    return out;
  }
}

function firstDefined<T>(cur: T | null, next: T | undefined): T | null {
  return cur !== null || next === undefined ? cur : next;
}

/**
 * Builds the graph from segments' facts given in transcript order. Pure; `stackText` is the store
 * that holds the stacks' text, if it was moved out of the facts.
 */
export function resolveFacts(
  segments: Iterable<Facts>,
  stackText: StackTextStore | null = null,
  keepUnparsed = MAX_UNPARSED_SAMPLE,
  identities: Iterable<SegmentIdentities> = segments,
): ResolvedDump {
  const system: Record<string, string | number> = {};
  const warnings: Warning[] = [];
  const unparsedSample: UnparsedLine[] = [];
  let warningCount = 0;
  let lines = 0;
  let unparsed = 0;

  // Pass 1: identities. Which pid each EPROCESS address, PEB and ETHREAD address belongs to.
  const pidOfAddress = new Map<string, number>();
  const addressOfPid = new Map<number, string>();
  // Upper bounds of the rows the graph's tables need.
  let threadFacts = 0;
  let stackFacts = 0;
  let waitFacts = 0;
  for (const f of identities) {
    for (const p of f.processes) {
      if (p.address !== undefined && p.pid !== undefined) {
        if (!pidOfAddress.has(p.address)) pidOfAddress.set(p.address, p.pid);
        if (!addressOfPid.has(p.pid) && p.source !== 'owning-process') addressOfPid.set(p.pid, p.address);
      }
    }
    for (const t of f.threads) {
      if (t.processAddress !== undefined && t.pid !== undefined && !pidOfAddress.has(t.processAddress)) pidOfAddress.set(t.processAddress, t.pid);
      waitFacts += t.waitsOn.length;
    }
    threadFacts += f.threads.length;
    stackFacts += f.stacks.length;
  }
  for (const [addr, pid] of pidOfAddress) if (!addressOfPid.has(pid)) addressOfPid.set(pid, addr);

  // A process is keyed by its pid (a number), or by its EPROCESS address (a string) when that
  // address is not the pid's: no key is built per fact.
  const keyFor = (address: string | undefined, pid: number | undefined): number | string | null => {
    if (address !== undefined) {
      const known = pidOfAddress.get(address);
      // An address seen with a pid is that process; a pid reused by another EPROCESS stays apart.
      return known !== undefined && addressOfPid.get(known) === address ? known : address;
    }
    if (pid !== undefined) return pid;
    return null;
  };
  const stackTable = new StackTable(stackFacts);
  const table = new ThreadTable(stackTable, threadFacts, waitFacts);
  const processes = new Map<number | string, GraphProcess>();
  const nodeFor = (key: number | string, line: number): GraphProcess => {
    let n = processes.get(key);
    if (!n) {
      n = new GraphProcess(table, line);
      processes.set(key, n);
    }
    return n;
  };

  // Pass 2: processes, threads, stacks, command lines, in transcript order.
  // Kernel threads by ETHREAD address, user-mode threads by `u:pid.tid`.
  const threads = new Map<string, number>();
  // Each thread's process key, once known, and the threads in the order they got one.
  const ownerKey: (number | string | undefined)[] = [];
  const owned: number[] = [];
  // In transcript order; a stack cut by a segment's end continues in the next segment's first
  // stack fact, with the same line: it joins the last one (no map of a million stacks by line).
  // Each stack's owner, its strings shared with the graph's (a million stacks, each fact's owner
  // with its own copy of two addresses, held half a kilobyte a stack until the end).
  // A stack printed in its thread's block names the thread (known by then) and its process:
  // those are kept as the thread's row and one shared string per process; other owners as
  // objects with the graph's strings.
  const stackThread = new Int32Array(stackFacts).fill(-1);
  const stackProcess: (string | undefined)[] = [];
  const stackOwners = new Map<number, Owner>();
  const ownerAddresses = new Map<string, string>();
  const shared = (a: string | undefined): string | undefined => {
    if (a === undefined) return undefined;
    const known = ownerAddresses.get(a);
    if (known !== undefined) return known;
    ownerAddresses.set(a, a);
    return a;
  };
  const commandLines: CommandLineFact[] = [];
  for (const f of segments) {
    lines += f.lineCount;
    unparsed += f.unparsedLines;
    if (f.unparsed !== undefined) for (const u of f.unparsed) if (unparsedSample.length < keepUnparsed) unparsedSample.push(u);
    for (const w of f.warnings) {
      if (warnings.length < MAX_DUMP_WARNINGS) warnings.push(w);
    }
    warningCount += f.warningCount;
    for (const s of f.system) if (!(s.field in system)) system[s.field] = s.value;
    for (const p of f.processes) {
      const key = keyFor(p.address, p.pid);
      if (key === null) continue;
      const n = nodeFor(key, p.line);
      n.address = firstDefined(n.address, p.address);
      n.pid = firstDefined(n.pid, p.pid ?? (p.address !== undefined ? pidOfAddress.get(p.address) : undefined));
      n.parentPid = firstDefined(n.parentPid, p.parentPid);
      if (n.image === null && p.image !== undefined) n.image = intern(p.image);
      n.sessionId = firstDefined(n.sessionId, p.sessionId ?? undefined);
      n.handleCount = firstDefined(n.handleCount, p.handleCount ?? undefined);
      n.peb = firstDefined(n.peb, p.peb);
      if (p.source === 'process-block' || p.source === 'user-process') n.listed = true;
    }
    for (const t of f.threads) {
      const key = t.address !== undefined ? t.address : t.pid !== undefined && t.tid !== undefined ? `u:${t.pid}.${t.tid}` : null;
      if (key === null) continue;
      let i = threads.get(key);
      if (i === undefined) {
        i = table.add(t.address ?? null, t.line);
        threads.set(key, i);
      }
      table.merge(i, t, t.processAddress !== undefined ? pidOfAddress.get(t.processAddress) : undefined);
      if (ownerKey[i] === undefined) {
        const pkey = keyFor(t.processAddress, t.pid);
        if (pkey !== null) {
          ownerKey[i] = pkey;
          owned.push(i);
        }
      }
    }
    for (const s of f.stacks) {
      const frames = s.frames !== undefined && s.frames.length > 0 ? s.frames.length : s.frameCount;
      const last = stackTable.count - 1;
      if (last >= 0 && stackTable.line[last] === s.line) {
        stackTable.continue(last, s, frames);
        continue;
      }
      const r = stackTable.add(s, frames);
      const o = s.owner;
      const t = o.threadAddress !== undefined && o.pid === undefined && o.tid === undefined && o.threadIndex === undefined && o.peb === undefined ? threads.get(o.threadAddress) : undefined;
      if (t !== undefined) stackThread[r] = t;
      else stackOwners.set(r, slimOwner(o, shared, threads, table));
      stackProcess.push(t !== undefined ? shared(o.processAddress) : undefined);
    }
    for (const c of f.commandLines) commandLines.push(c);
  }

  // Threads join their processes (creating nodes for processes known only from their threads).
  const threadByIndex = new Map<string, number>();
  const members = new Map<GraphProcess, number[]>();
  for (const i of owned) {
    const n = nodeFor(ownerKey[i]!, table.line[i]);
    const pid = table.pidOf(i);
    if (n.pid === null && pid !== null) n.pid = pid;
    let list = members.get(n);
    if (!list) members.set(n, (list = []));
    list.push(i);
    const index = table.indexOf(i);
    if (index !== null && pid !== null) threadByIndex.set(`${pid}#${index}`, i);
  }
  ownerKey.length = 0;
  owned.length = 0;
  // One array of thread rows, each process's run sorted by line (stably, as they joined).
  const order = new Int32Array(table.count);
  let at = 0;
  for (const [n, list] of members) {
    list.sort((a, b) => table.line[a] - table.line[b]);
    n.setThreads(order, at, list.length);
    order.set(list, at);
    at += list.length;
  }
  members.clear();

  const byPid = new Map<number, GraphProcess>();
  const byPeb = new Map<string, GraphProcess | null>();
  for (const n of processes.values()) {
    if (n.pid !== null && !byPid.has(n.pid)) byPid.set(n.pid, n);
    if (n.peb !== null) byPeb.set(n.peb, byPeb.has(n.peb) ? null : n); // a PEB shared by several (WOW64) identifies none
  }
  const processOf = (o: Owner): GraphProcess | null => {
    if (o.processAddress !== undefined) {
      const k = keyFor(o.processAddress, undefined);
      if (k !== null && processes.has(k)) return processes.get(k)!;
    }
    if (o.pid !== undefined && byPid.has(o.pid)) return byPid.get(o.pid)!;
    return null;
  };
  // A thread's row, or -1.
  const threadOf = (o: Owner): number => {
    if (o.threadAddress !== undefined) return threads.get(o.threadAddress) ?? -1;
    if (o.pid !== undefined && o.tid !== undefined) return threads.get(`u:${o.pid}.${o.tid}`) ?? -1;
    if (o.pid !== undefined && o.threadIndex !== undefined) return threadByIndex.get(`${o.pid}#${o.threadIndex}`) ?? -1;
    return -1;
  };

  // Command lines go to their process; a process with no Image line takes its image from it.
  const orphanCommandLines: CommandLineFact[] = [];
  for (const c of commandLines) {
    let n: GraphProcess | null = null;
    if (c.owner.peb !== undefined) n = byPeb.get(c.owner.peb) ?? null;
    n ??= processOf(c.owner);
    if (n === null) {
      orphanCommandLines.push(c);
      continue;
    }
    n.commandLine ??= c.commandLine;
    if (n.image === null) n.image = c.imageFile ?? imageFromCommandLine(c.commandLine);
  }

  // Stacks: those in a thread's block are its frames; the others are listed with their context.
  const attributed: AttributedStack[] = [];
  let frameCount = 0;
  ownerAddresses.clear();
  // Sorted already but for odd inputs: then stably, by line.
  let stackOrder: number[] | null = null;
  for (let r = 1; r < stackTable.count && stackOrder === null; r++) {
    if (stackTable.line[r] < stackTable.line[r - 1]) stackOrder = Array.from({ length: stackTable.count }, (_, k) => k).sort((a, b) => stackTable.line[a] - stackTable.line[b]);
  }
  for (let k = 0; k < stackTable.count; k++) {
    const r = stackOrder === null ? k : stackOrder[k];
    const early = stackThread[r];
    const other = early >= 0 ? undefined : stackOwners.get(r)!;
    frameCount += stackTable.frameCount[r];
    const t = other === undefined ? early : threadOf(other);
    if (t >= 0) {
      const own = table.stackRow[t];
      if (own < 0 || stackTable.frameCount[own] === 0) table.stackRow[t] = r;
      if (stackTable.inBlock(r) && table.stackRow[t] === r) continue;
    }
    const owner = other ?? ownerOf(stackProcess[r], table.address[early]!);
    const tpid = t >= 0 ? table.pidOf(t) : null;
    const p = tpid !== null ? byPid.get(tpid) ?? null : processOf(owner);
    attributed.push({
      line: stackTable.line[r],
      pid: tpid ?? p?.pid ?? owner.pid ?? null,
      tid: (t >= 0 ? table.tidOf(t) : null) ?? owner.tid ?? null,
      processAddress: p?.address ?? owner.processAddress ?? null,
      threadAddress: (t >= 0 ? table.address[t] : null) ?? owner.threadAddress ?? null,
      machine: stackTable.machine(r),
      elided: stackTable.elided(r),
      stack: stackTable.text(r),
    });
  }
  stackOwners.clear();
  stackProcess.length = 0;

  const list: ProcessNode[] = [...processes.values()].sort((a, b) => a.line - b.line);
  let threadCount = 0;
  for (const n of list) threadCount += (n as GraphProcess).threadCount;
  return {
    system: system as SystemFacts,
    processes: list,
    stacks: attributed,
    orphanCommandLines,
    warnings,
    unparsed: unparsedSample,
    stats: { lines, processes: list.length, threads: threadCount, frames: frameCount, unparsedLines: unparsed, warnings: warningCount },
    stackText,
  };
}

/** The frames of a stack of the dump (none for null), built from its text: only where a report renders them. */
export function stackFrames(dump: ResolvedDump, stack: StackText | null): Frame[] {
  if (stack === null) return [];
  const out: Frame[] = [];
  for (const part of stack.parts) {
    const text = part.textRef !== undefined && dump.stackText !== null ? dump.stackText.get(part.textRef) : part.text;
    for (const f of readStackFrames(part, text)) out.push(f);
  }
  return out;
}
