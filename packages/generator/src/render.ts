/**
 * Turns a {@link DumpPlan} into debugger output, command by command, into a {@link ChunkSink}.
 * The session is a generator that yields after every command (and every process of a long
 * listing) so the caller can drain full chunks: memory never holds more than one command.
 */
import { familyOf, osBanner } from './catalog';
import { type Addr, add, cpuTime, hex8, hexPad, ptr, ptrTick, tickDuration } from './format';
import type { DumpPlan, ProcessPlan } from './plan';
import { mixSeed, Prng } from './prng';
import { ChunkSink } from './sink';
import { type Frame, ThreadFactory, type ThreadInfo } from './threads';

/** Per-dump habits of the person or script that produced the transcript, drawn from the seed. */
export interface SessionChoices {
  readonly style: 'investigation' | 'full' | 'listing';
  readonly argsToChild: boolean;
  readonly numbered: boolean;
  readonly symbolicUser: boolean;
  readonly crlf: boolean;
  readonly html: boolean;
  readonly tabs: boolean;
  readonly handlesHidden: boolean;
  readonly blankBeforePrompt: boolean;
  readonly cpus: number;
  readonly detailRate: number;
}

type Unit =
  | { kind: 'detail'; p: number }
  | { kind: 'peb'; p: number }
  | { kind: 'exc'; p: number; t: number }
  | { kind: 'peek'; p: number }
  | { kind: 'bypid'; p: number }
  | { kind: 'werlist' }
  | { kind: 'thread'; p: number; t: number };

const HTML_OPEN = '<span style="color: #ff0000;">';
type NoiseKind = 'locks' | 'lm' | 'regs' | 'warnings' | 'blank' | 'vm' | 'elision' | 'thread' | 'ordinary-peb' | 'ordinary-process' | 'analyze';
/** Noise kinds that refer to processes by address: only once the process list is printed. */
const NOISE_KINDS: readonly NoiseKind[] = ['locks', 'lm', 'regs', 'warnings', 'blank', 'blank', 'vm', 'elision', 'thread', 'thread', 'ordinary-peb', 'ordinary-process', 'analyze'];
const NOISE_KINDS_BEFORE_LIST: readonly NoiseKind[] = ['locks', 'lm', 'regs', 'warnings', 'blank', 'vm', 'analyze'];
/** Padding re-prints at most this many distinct processes. */
const PAD_WINDOW = 512;
/** Characters of rendered padding kept for re-use. */
const PAD_CACHE_CHARS = 24 * 1024 * 1024;

/** Draws the session habits of a dump. */
export function chooseSession(plan: DumpPlan): SessionChoices {
  const r = new Prng(mixSeed(plan.spec.seed, 0x53455353));
  const { spec } = plan;
  const noise = spec.noise;
  const styleRoll = r.float();
  const style = spec.style ?? (spec.debugger === 'cdb' ? (styleRoll < 0.7 ? 'full' : 'investigation') : styleRoll < 0.25 ? 'full' : 'investigation');
  return {
    style,
    argsToChild: r.chance(spec.arch === 'x64' ? 0.35 : 0.5) || plan.family === 'nt4',
    numbered: plan.family === 'win10' && r.chance(0.35),
    symbolicUser: r.chance(0.5),
    crlf: r.chance(noise * 0.6),
    html: r.chance(noise * 0.7),
    tabs: r.chance(noise * 0.6),
    handlesHidden: plan.family === 'win10' && r.chance(noise * 0.3),
    blankBeforePrompt: r.chance(0.5),
    cpus: plan.family === 'nt4' ? 1 : r.pick([1, 2, 4, 4, 8, 8, 16, 32]),
    detailRate: 0.1 + r.float() * 0.4,
  };
}

/** Writes one dump's session. */
export class Renderer {
  readonly threads: ThreadFactory;
  readonly choices: SessionChoices;
  private readonly r: Prng;
  private readonly nt4: boolean;
  private readonly ptr64: boolean;
  private readonly modern: boolean;
  private x86 = false;
  private wowLoaded = false;
  /** The process list has been printed: noise may now refer to processes by address. */
  private listed = false;
  /** Characters of noise written so far. */
  private noiseChars = 0;
  private readonly reprints = new Map<string, string>();
  private reprintChars = 0;
  private readonly paddable: number[];

  constructor(
    readonly plan: DumpPlan,
    readonly sink: ChunkSink,
  ) {
    this.threads = new ThreadFactory(plan);
    this.choices = chooseSession(plan);
    this.r = new Prng(mixSeed(plan.spec.seed, 0x4e4f4953));
    this.nt4 = plan.family === 'nt4';
    this.ptr64 = plan.ptr64;
    this.modern = plan.family === 'win10';
    sink.eol = this.choices.crlf ? '\r\n' : '\n';
    const ordinary = plan.processes.filter((p) => p.role === 'ordinary' && p.faults.length === 0 && p.threadCount > 0).map((p) => p.index);
    this.paddable = ordinary.length > 0 ? ordinary : plan.processes.filter((p) => p.threadCount > 0).map((p) => p.index);
  }

  private get noise(): number {
    return this.plan.spec.noise;
  }

  private line(s: string): void {
    this.sink.line(s);
  }

  private prompt(): string {
    const base = this.choices.cpus > 1 ? '0: kd' : 'kd';
    return base + (this.x86 ? ':x86> ' : '> ');
  }

  /** A prompt line with its command. */
  cmd(command: string): void {
    if (this.choices.blankBeforePrompt) this.line('');
    let text = this.prompt() + command;
    if (this.noise > 0 && this.r.chance(this.noise * 0.05)) text = '0:000>' + text;
    if (this.choices.html && this.r.chance(0.5)) text = HTML_OPEN + text + '</span>';
    this.line(text);
  }

  // ---------------------------------------------------------------- session

  /** The whole session; yields after every command so the caller can drain the sink. */
  *session(): Generator<void> {
    this.banner();
    yield;
    if (this.choices.style === 'listing') {
      yield* this.listingOnly();
      return;
    }
    if (this.choices.style === 'investigation') {
      this.maybeNoise();
      yield* this.processTable();
    } else {
      this.maybeNoise();
      this.cmd('!process 0 ff');
      this.line('**** NT ACTIVE PROCESS DUMP ****');
      for (const i of this.plan.listOrder) {
        const p = this.plan.processes[i] as ProcessPlan;
        this.processBlock(p, 'ff');
        if (this.noise > 0 && this.r.chance(this.noise * 0.1)) {
          const before = this.sink.total;
          this.inlineNoise();
          this.noiseChars += this.sink.total - before;
        }
        yield;
      }
    }
    this.listed = true;
    for (const u of this.units()) {
      this.sink.tabs = this.choices.tabs && this.r.chance(0.3);
      if (this.choices.html && this.r.chance(0.3)) this.sink.collapse = this.r.chance(0.5) ? 'spaces' : 'indent';
      this.unit(u);
      this.sink.tabs = false;
      this.sink.collapse = 'off';
      this.maybeNoise();
      yield;
    }
    // Padding for benchmarks: re-print existing processes and threads (no new facts). Output is a
    // pure function of (process, thread, flags), so a bounded cache of rendered commands keeps
    // padding fast; it draws from a window of at most PAD_WINDOW processes so the cache hits.
    const target = this.plan.spec.padToBytes;
    const window = this.paddable.length > PAD_WINDOW ? this.r.shuffle([...this.paddable]).slice(0, PAD_WINDOW) : this.paddable;
    while (this.sink.total < target) {
      if (window.length === 0) this.noiseBlock('lm');
      else {
        const p = this.plan.processes[this.r.pick(window)] as ProcessPlan;
        this.reprint(this.r.chance(0.6) ? { kind: 'detail', p: p.index } : { kind: 'thread', p: p.index, t: this.r.int(0, Math.min(p.threadCount, 8) - 1) });
        this.maybeNoise();
      }
      yield;
    }
    this.closing();
    yield;
  }

  /** `!process 0 0` and the process table, pausing every 32 processes. */
  private *processTable(): Generator<void> {
    this.cmd('!process 0 0');
    this.line('**** NT ACTIVE PROCESS DUMP ****');
    let n = 0;
    for (const i of this.plan.listOrder) {
      this.header(this.plan.processes[i] as ProcessPlan, 'list');
      if (++n % 32 === 0) yield;
    }
    yield;
  }

  /**
   * The `listing` style: `!process 0 0` and the process table, printed again until the transcript
   * has `padToBytes` bytes, then the closing lines. No other command, no noise.
   */
  private *listingOnly(): Generator<void> {
    do yield* this.processTable();
    while (this.sink.total < this.plan.spec.padToBytes);
    this.closing();
    yield;
  }

  private units(): Unit[] {
    const { plan, r } = this;
    const full = this.choices.style === 'full';
    const groups: Unit[][] = [];
    for (const p of plan.processes) {
      if (p.zombie) continue;
      const g: Unit[] = [];
      const wer = p.role === 'reporter' || p.role === 'decoy';
      if (wer && p.evidence.includes('command-line')) g.push({ kind: 'peb', p: p.index });
      if (p.faults.length > 0) {
        if (!full && (p.faults.some((f) => f.waiting || f.stack !== 'present') || r.chance(0.6))) g.push({ kind: 'detail', p: p.index });
        p.faults.forEach((f, t) => {
          if (f.stack === 'present' && (!full || p.wow64 || r.chance(0.4))) g.push({ kind: 'exc', p: p.index, t });
          if (f.waiting && r.chance(0.3)) g.push({ kind: 'peek', p: f.reporter });
        });
      } else if (!full && (wer ? r.chance(0.4) : r.chance(this.choices.detailRate))) g.push({ kind: 'detail', p: p.index });
      if (wer && p.evidence.includes('command-line') && p.reportsIndex >= 0 && r.chance(0.25)) g.push({ kind: 'bypid', p: p.reportsIndex });
      if (g.length > 0) groups.push(g);
    }
    r.shuffle(groups);
    if (!full && plan.processes.some((p) => p.image === 'WerFault.exe') && r.chance(0.35)) groups.unshift([{ kind: 'werlist' }]);
    return groups.flat();
  }

  private unit(u: Unit): void {
    const { plan } = this;
    switch (u.kind) {
      case 'werlist': {
        this.cmd('!process 0 0 WerFault.exe');
        for (const i of plan.listOrder) {
          const p = plan.processes[i] as ProcessPlan;
          if (p.image === 'WerFault.exe') this.header(p, 'list');
        }
        return;
      }
      case 'detail': {
        const p = plan.processes[u.p] as ProcessPlan;
        const flags = p.faults.some((f) => f.stack === 'absent') && !p.wow64 && this.r.chance(0.5) ? '2' : this.r.pick(['ff', 'ff', '1f', '17', '7']);
        this.cmd(`!process ${p.addrText} ${flags}`);
        this.processBlock(p, flags === '2' ? '2' : 'ff');
        return;
      }
      case 'peek': {
        const p = plan.processes[u.p] as ProcessPlan;
        this.cmd(`!process ${p.addrText} 0`);
        this.header(p, 'detail');
        return;
      }
      case 'bypid': {
        const p = plan.processes[u.p] as ProcessPlan;
        this.cmd(`!process 0n${p.pid} 0`);
        this.line(`Searching for Process with Cid == ${p.pid.toString(16)}`);
        this.line('');
        this.header(p, 'detail');
        return;
      }
      case 'peb': {
        const p = plan.processes[u.p] as ProcessPlan;
        this.setProcess(p);
        this.cmd('!peb');
        this.peb(p);
        return;
      }
      case 'exc': {
        const p = plan.processes[u.p] as ProcessPlan;
        const info = this.threads.thread(p, u.t);
        if (p.wow64) {
          if (!this.wowLoaded) {
            this.cmd('.load wow64exts');
            this.wowLoaded = true;
          }
          this.setProcess(p);
          // three ways to reach the 32-bit context: .thread /w (the seed), .effmach x86, !sw
          const how = this.r.float();
          if (how < 0.6) {
            this.cmd(`.thread /w ${info.addrText}`);
            this.line(`Implicit thread is now ${info.addrTick}`);
            this.line('x86 context set');
          } else {
            this.cmd(`.thread ${info.addrText}`);
            this.line(`Implicit thread is now ${info.addrTick}`);
            if (how < 0.8) {
              this.cmd('.effmach x86');
              this.line('Effective machine: x86 compatible (x86)');
            } else {
              this.cmd('!sw');
              this.line('Switched to Guest (WoW) mode');
            }
          }
          this.x86 = true;
          this.cmd('k');
          this.line('*** Stack trace for last set context - .thread/.cxr resets it');
          this.stack(p, info, 'x86', '', 'k');
          if (how >= 0.8) {
            this.cmd('!sw');
            this.line('Switched to Host mode');
          } else {
            this.cmd(this.r.chance(0.8) ? '.effmach AMD64' : '.effmach amd64');
            this.line('Effective machine: x64 (AMD64)');
          }
          this.x86 = false;
        } else {
          this.setProcess(p);
          this.cmd(`.thread ${info.addrText}`);
          this.line(`Implicit thread is now ${info.addrTick}`);
          const k = this.r.pick(['k', 'kb', 'kn'] as const);
          this.cmd(k);
          this.line('*** Stack trace for last set context - .thread/.cxr resets it');
          this.stack(p, info, 'kernel', '', k);
        }
        return;
      }
      case 'thread': {
        const p = plan.processes[u.p] as ProcessPlan;
        const info = this.threads.thread(p, u.t);
        this.cmd(`!thread ${info.addrText}`);
        this.threadBlock(p, info, 'thread', true);
        return;
      }
    }
  }

  /**
   * Re-prints an ordinary process or thread (no new fact), re-using the text when it was
   * rendered before: output is a pure function of the unit, so only prompt decoration is shared.
   */
  private reprint(u: Extract<Unit, { kind: 'detail' | 'thread' }>): void {
    const key = u.kind === 'thread' ? `t${u.p}.${u.t}` : `p${u.p}`;
    const hit = this.reprints.get(key);
    if (hit !== undefined) {
      this.sink.raw(hit);
      return;
    }
    this.sink.beginCapture();
    this.unit(u);
    const text = this.sink.endCapture();
    if (this.reprintChars + text.length <= PAD_CACHE_CHARS) {
      this.reprints.set(key, text);
      this.reprintChars += text.length;
    }
  }

  private setProcess(p: ProcessPlan): void {
    this.cmd(`.process /r /p ${p.addrText}`);
    this.line(`Implicit process is now ${p.addrTick}`);
    this.line('Loading User Symbols');
    if (this.r.chance(0.5)) this.line('.'.repeat(this.r.int(8, 64)));
    if (p.wow64) this.line('Loading Wow64 Symbols');
  }

  // ---------------------------------------------------------------- processes

  /** PROCESS header: 3-4 lines; `list` adds the blank line kd prints between processes. */
  header(p: ProcessPlan, mode: 'list' | 'detail'): void {
    const hc = p.zombie ? '  0.' : this.choices.handlesHidden ? '<Data Not Accessible>' : p.handleText;
    if (this.nt4) {
      if (mode === 'list') {
        this.line(`PROCESS ${p.addrText}  Cid: ${p.cid}    Peb: ${p.pebText}  ParentCid: ${p.parentCid}`);
        this.line(`    DirBase: ${p.dirBaseText}  ObjectTable: ${p.objectTableText}  TableSize: ${hc}`);
        this.line(`    Image: ${p.image}`);
      } else {
        this.line(`PROCESS ${p.addrText} Cid: ${p.cid}  Peb: ${p.pebText} ParentCid: ${p.parentCid}`);
        this.line(`  DirBase: ${p.dirBaseText} ObjectTable: ${p.objectTableText} TableSize: ${hc}`);
        this.line(`  Image: ${p.image}`);
      }
      return;
    }
    const session = p.session === null ? 'none' : String(p.session);
    const ids = `SessionId: ${session}  Cid: ${p.cid}    Peb: ${p.pebText}  ParentCid: ${p.parentCid}`;
    if (this.ptr64) {
      this.line(`PROCESS ${p.addrText}`);
      this.line(`    ${ids}`);
    } else this.line(`PROCESS ${p.addrText}  ${ids}`);
    this.line(`    DirBase: ${p.dirBaseText}  ObjectTable: ${p.objectTableText}  HandleCount: ${hc}`);
    this.line(`    Image: ${p.image}`);
    if (mode === 'list') this.line('');
  }

  /** `!process <addr> <flags>` output for one process: `2` threads only, `ff` everything. */
  processBlock(p: ProcessPlan, flags: '2' | 'ff'): void {
    this.header(p, 'detail');
    const pr = new Prng(mixSeed(this.plan.spec.seed, 0x44455441, p.index));
    if (flags === 'ff') this.processDetails(p, pr);
    this.line('');
    if (p.zombie) return;
    const chainProcess = p.role !== 'ordinary' || p.faults.length > 0;
    let elided = false;
    for (let t = 0; t < p.threadCount; t++) {
      const info = this.threads.thread(p, t);
      if (!chainProcess && !elided && t > 0 && this.noise > 0 && this.r.chance(this.noise * 0.15)) {
        this.line(this.nt4 ? '    ...' : '        ...');
        elided = true;
        continue;
      }
      this.threadBlock(p, info, 'process', flags === 'ff');
    }
  }

  private processDetails(p: ProcessPlan, r: Prng): void {
    const P = (lo: number): string => ptr(this.ptr64 ? { hi: this.plan.poolHi, lo } : { hi: 0, lo: 0x84000000 + (lo & 0x3ffffff8) }, this.ptr64);
    const G = (lo: number): string => ptr(this.ptr64 ? { hi: this.plan.pagedHi, lo } : { hi: 0, lo: 0x8a000000 + (lo & 0x0ffffff8) }, this.ptr64);
    const ws = r.int(200, 40000);
    const vads = r.int(20, 900);
    if (this.nt4) {
      this.line(`  VadRoot ${P(r.next() & 0xfffffff8)} Clone 0 Private ${r.int(4, 5000)}. Modified ${r.int(0, 9999)}. Locked 0.`);
      this.line(`  ${hex8(r.next()).toUpperCase()} MutantState Signalled OwningThread 0`);
      this.line(`  Token               ${G(r.next() & 0xfffffff8)}`);
      this.line(`  ElapsedTime            ${r.int(0, 23)}:${String(r.int(0, 59)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}.${String(r.int(0, 9999)).padStart(4, '0')}`);
      this.line(`  UserTime             0:00:00.${String(r.int(0, 9999)).padStart(4, '0')}`);
      this.line(`  KernelTime            0:00:${String(r.int(0, 59)).padStart(2, '0')}.${String(r.int(0, 9999)).padStart(4, '0')}`);
      this.line(`  QuotaPoolUsage[PagedPool]     ${r.int(1000, 40000)}`);
      this.line(`Working Set Sizes (now,min,max) (${ws}, 50, 345)`);
      this.line(`  PeakWorkingSetSize        ${ws + r.int(0, 500)}`);
      this.line(`  VirtualSize            ${r.int(1, 200)} Mb`);
      this.line(`  PeakVirtualSize          ${r.int(1, 220)} Mb`);
      this.line(`  PageFaultCount          ${r.int(100, 90000)}`);
      this.line(`  MemoryPriority          BACKGROUND`);
      this.line(`  BasePriority           8`);
      this.line(`  CommitCharge           ${r.int(8, 9000)}`);
      return;
    }
    const pad = (label: string): string => label.padEnd(34);
    this.line(`    VadRoot ${P(r.next() & 0xfffffff0)} Vads ${vads} Clone 0 Private ${r.int(50, 60000)}. Modified ${r.int(0, 5000)}. Locked 0.`);
    this.line(`    DeviceMap ${G(mixSeed(this.plan.spec.seed, 0x444d, p.session ?? 9) & 0xfffffff0)}`);
    this.line(`    ${pad('Token')}${G(r.next() & 0xfffffff0)}`);
    this.line(`    ${pad('ElapsedTime')}${cpuTime(r.int(1000, 90_000_000))}`);
    this.line(`    ${pad('UserTime')}${cpuTime(r.int(0, 5000))}`);
    this.line(`    ${pad('KernelTime')}${cpuTime(r.int(0, 5000))}`);
    this.line(`    ${pad('QuotaPoolUsage[PagedPool]')}${r.int(0, 400000)}`);
    this.line(`    ${pad('QuotaPoolUsage[NonPagedPool]')}${r.int(0, 40000)}`);
    this.line(`    Working Set Sizes (now,min,max)  (${ws}, 50, 345) (${ws * 4}KB, 200KB, 1380KB)`);
    this.line(`    ${pad('PeakWorkingSetSize')}${ws + r.int(0, 4000)}`);
    const vs = this.ptr64 && this.modern ? r.int(2097152, 2101400) : r.int(20, 900);
    this.line(`    ${pad('VirtualSize')}${vs} Mb`);
    this.line(`    ${pad('PeakVirtualSize')}${vs + r.int(0, 40)} Mb`);
    this.line(`    ${pad('PageFaultCount')}${r.int(300, 900000)}`);
    this.line(`    ${pad('MemoryPriority')}${r.chance(0.8) ? 'BACKGROUND' : 'FOREGROUND'}`);
    this.line(`    ${pad('BasePriority')}8`);
    this.line(`    ${pad('CommitCharge')}${r.int(50, 90000)}`);
  }

  /**
   * A THREAD line, its wait objects and (with `details`) its detail lines and stack.
   * `where` `process`: indented as inside `!process`; `thread`: as `!thread` prints it.
   */
  threadBlock(p: ProcessPlan, info: ThreadInfo, where: 'process' | 'thread', details: boolean): void {
    const nt4 = this.nt4;
    const i0 = where === 'thread' ? '' : nt4 ? '    ' : '        ';
    const iw = where === 'thread' ? '    ' : nt4 ? '    ' : '            ';
    const ptr64 = this.ptr64;
    const teb = ptr(info.teb, ptr64);
    const w32 = info.win32 ? ptr(info.win32, ptr64) : ptr64 ? '0000000000000000' : '00000000';
    if (nt4) this.line(`${i0}THREAD ${info.addrText} Cid ${p.pid.toString(16)}.${info.tid.toString(16)} Teb: ${teb} Win32Thread: ${w32} ${info.state}`);
    else this.line(`${i0}THREAD ${info.addrText}  Cid ${p.cid}.${hexPad(info.tid, 4)}  Teb: ${teb} Win32Thread: ${w32} ${info.state}`);
    for (const [a, type] of info.waits) this.line(nt4 ? `${iw}${a} ${type}` : `${iw}${a}  ${type}`);
    if (!details) {
      if (where === 'process') this.line('');
      return;
    }
    const r = new Prng(info.seed ^ 0x0def0);
    const kernelOnly = info.role === 'system' || info.role === 'running';
    const space = ptr64 && !p.wow64 ? 'u64' : 'u32';
    let startSym: string;
    if (kernelOnly) startSym = `nt!ExpWorkerThread (0x${ptr(this.threads.symbolAddr(p, 'nt', 'ExpWorkerThread', 0, 'k'), ptr64)})`;
    else if (info.role === 'queue') startSym = `ntdll!TppWorkerThread (0x${ptr(this.threads.symbolAddr(p, 'ntdll', 'TppWorkerThread', 0, space), ptr64)})`;
    else startSym = `0x${ptr(this.userAddr(p, r), ptr64)}`;
    const ticks = r.int(1, 400000);
    if (nt4) {
      this.line(`${i0}Not impersonating`);
      this.line(`${i0}Owning Process ${p.addrText}`);
      this.line(`${i0}WaitTime (seconds)   ${r.int(1, 40000)}`);
      this.line(`${i0}Context Switch Count  ${r.int(1, 5000)}`);
      this.line(`${i0}UserTime         0:00:00.${String(r.int(0, 9999)).padStart(4, '0')}`);
      this.line(`${i0}KernelTime        0:00:${String(r.int(0, 59)).padStart(2, '0')}.${String(r.int(0, 9999)).padStart(4, '0')}`);
      this.line(`${i0}Start Address ${kernelOnly ? 'Phase1Initialization' : 'KERNEL32!BaseThreadStart'} (0x${hex8((kernelOnly ? this.kernelAddr(r) : this.userAddr(p, r)).lo)})`);
      this.line(`${i0}Initial Sp ${hex8(info.stackInit.lo)} Current Sp ${hex8(info.current.lo)}`);
      this.line(`${i0}Priority ${r.int(0, 15)} BasePriority ${r.int(0, 13)} PriorityDecrement 0 DecrementCount 0`);
      this.line('');
    } else {
      const L = (label: string): string => i0 + label.padEnd(26);
      this.line(`${i0}Not impersonating`);
      this.line(`${L('DeviceMap')}${ptr(this.ptr64 ? { hi: this.plan.pagedHi, lo: mixSeed(this.plan.spec.seed, 0x444d, p.session ?? 9) & 0xfffffff0 } : { hi: 0, lo: 0x8a000000 + (mixSeed(this.plan.spec.seed, 0x444d, p.session ?? 9) & 0x0ffffff8) }, ptr64)}`);
      this.line(`${L('Owning Process')}${p.addrText}       Image:         ${p.image}`);
      this.line(`${L('Attached Process')}N/A            Image:         N/A`);
      const waitStart = r.int(ticks, ticks + 900000);
      this.line(`${L('Wait Start TickCount')}${String(waitStart).padEnd(15)}Ticks: ${ticks} (${tickDuration(ticks)})`);
      this.line(`${L('Context Switch Count')}${String(r.int(1, 90000)).padEnd(15)}IdealProcessor: ${r.int(0, Math.max(0, this.choices.cpus - 1))}             `);
      this.line(`${L('UserTime')}${cpuTime(r.int(0, 2000))}`);
      this.line(`${L('KernelTime')}${cpuTime(r.int(0, 2000))}`);
      this.line(`${i0}Win32 Start Address ${startSym}`);
      if (ptr64) {
        this.line(`${i0}Stack Init ${ptr(info.stackInit, true)} Current ${ptr(info.current, true)}`);
        this.line(`${i0}Base ${ptr(info.base, true)} Limit ${ptr(info.limit, true)} Call ${this.modern ? '0000000000000000' : '0'}`);
      } else {
        this.line(`${i0}Stack Init ${hex8(info.stackInit.lo)} Current ${hex8(info.current.lo)} Base ${hex8(info.base.lo)} Limit ${hex8(info.limit.lo)} Call 0`);
      }
      const prio = r.int(8, 15);
      if (this.plan.family === 'win7' && ptr64) this.line(`${i0}Priority ${prio} BasePriority 8 UnusualBoost 0 ForegroundBoost 0 IoPriority 2 PagePriority 5`);
      else if (this.modern && ptr64) this.line(`${i0}Priority ${prio}  BasePriority 8  IoPriority 2  PagePriority 5`);
      else this.line(`${i0}Priority ${prio} BasePriority 8 PriorityDecrement ${prio - 8} IoPriority 2 PagePriority 5`);
    }
    if (info.notResident) this.line(`${i0}Kernel stack not resident.`);
    else this.stack(p, info, 'kernel', i0, this.choices.argsToChild ? 'kb' : 'k');
    if (where === 'process') this.line('');
  }

  private kernelAddr(r: Prng): Addr {
    const nt = this.ptr64 ? (this.plan.family === 'win7' ? { hi: 0xfffff800, lo: 0x01a5f000 } : { hi: 0xfffff807, lo: 0x1e000000 }) : { hi: 0, lo: this.nt4 ? 0x80100000 : 0x82a0b000 };
    return add(nt, (r.next() & 0x3ffff0) + 0x1000);
  }

  private userAddr(p: ProcessPlan, r: Prng): Addr {
    if (!this.ptr64 || p.wow64) return { hi: 0, lo: (0x00400000 + (r.next() & 0x003ffff0)) >>> 0 };
    return this.plan.family === 'win7' ? { hi: 0, lo: (0xff000000 + (r.next() & 0x00fffff0)) >>> 0 } : { hi: 0x7ff6, lo: r.next() & 0xfffffff0 };
  }

  // ---------------------------------------------------------------- stacks

  /** A stack with its header, as `k`, `kb` or `kn` prints it. */
  stack(p: ProcessPlan, info: ThreadInfo, view: 'kernel' | 'x86', indent: string, cmd: 'k' | 'kb' | 'kn'): void {
    const symbolic = p.role !== 'ordinary' || p.faults.length > 0 || this.choices.symbolicUser;
    const frames = this.threads.frames(p, info, view, symbolic);
    const r = new Prng(info.seed ^ 0xa7a7);
    const args = cmd === 'kb' || this.nt4;
    const numbered = cmd === 'kn' || (this.choices.numbered && cmd === 'k' && view === 'x86');
    const modern = this.modern;
    if (view === 'x86') {
      // a WOW64 thread's 32-bit stack in a 64-bit debugger (the seed's layout)
      this.line(indent + (modern ? ' # ChildEBP RetAddr      ' : 'ChildEBP          RetAddr'));
      frames.forEach((f, n) => {
        if (f.warn) this.line(indent + 'WARNING: Frame IP not in any known module. Following frames may be wrong.');
        const nn = modern ? hexPad(n, 2) + ' ' : '';
        this.line(`${indent}${nn}${hex8(f.sp.lo)} ${hex8(f.ret.lo)}${modern ? '     ' : ' '}${f.site}`);
      });
      return;
    }
    if (this.ptr64) {
      const header = args
        ? modern
          ? 'Child-SP          RetAddr               : Args to Child                                                           : Call Site'
          : 'Child-SP          RetAddr           : Args to Child                                                           : Call Site'
        : numbered
          ? modern
            ? ' # Child-SP          RetAddr               Call Site'
            : '# Child-SP          RetAddr           Call Site'
          : 'Child-SP          RetAddr           Call Site';
      this.line(indent + header);
      frames.forEach((f, n) => {
        if (f.warn) this.line(indent + 'WARNING: Frame IP not in any known module. Following frames may be wrong.');
        const trap = f.trap ? ` (TrapFrame @ ${ptrTick(f.trap, true)})` : '';
        const sp = ptrTick(f.sp, true);
        const ret = ptrTick(f.ret, true);
        if (args) {
          const a = `${this.arg64(r, f)} ${this.arg64(r, f)} ${this.arg64(r, f)} ${this.arg64(r, f)}`;
          this.line(`${indent}${sp} ${ret}${modern ? '     ' : ' '}: ${a} : ${f.site}${trap}`);
        } else if (numbered) {
          this.line(`${indent}${hexPad(n, 2)} ${sp} ${ret}${modern ? '     ' : ' '}${f.site}${trap}`);
        } else this.line(`${indent}${sp} ${ret} ${f.site}${trap}`);
      });
      return;
    }
    const header = this.nt4 ? 'ChildEBP RetAddr Args to Child' : args ? 'ChildEBP RetAddr  Args to Child              ' : numbered ? ' # ChildEBP RetAddr  ' : 'ChildEBP RetAddr  ';
    this.line(indent + header);
    frames.forEach((f, n) => {
      if (f.warn) this.line(indent + 'WARNING: Frame IP not in any known module. Following frames may be wrong.');
      const trap = f.trap ? ` (FPO: [0,3] TrapFrame @ ${hex8(f.trap.lo)})` : args && !this.nt4 && r.chance(0.3) ? ' (FPO: [Non-Fpo])' : '';
      const head = `${numbered && !args ? hexPad(n, 2) + ' ' : ''}${hex8(f.sp.lo)} ${hex8(f.ret.lo)}`;
      if (args) this.line(`${indent}${head} ${hex8(this.arg32(r, f))} ${hex8(this.arg32(r, f))} ${hex8(this.arg32(r, f))} ${f.site}${trap}`);
      else this.line(`${indent}${head} ${f.site}${trap}`);
    });
  }

  private arg64(r: Prng, f: Frame): string {
    const roll = r.next() & 7;
    if (roll < 3) return '00000000`00000000';
    if (roll < 4) return '00000000`' + hex8(r.next() & 0xff);
    if (roll < 6) return ptrTick({ hi: f.sp.hi, lo: (f.sp.lo + (r.next() & 0xff8)) >>> 0 }, true);
    return ptrTick({ hi: this.plan.poolHi || 0xfffffa80, lo: r.next() & 0xfffffff0 }, true);
  }

  private arg32(r: Prng, f: Frame): number {
    const roll = r.next() & 7;
    if (roll < 3) return 0;
    if (roll < 4) return r.next() & 0xff;
    if (roll < 6) return (f.sp.lo + (r.next() & 0xff8)) >>> 0;
    return r.next();
  }

  // ---------------------------------------------------------------- PEB

  /** `!peb` output of the implicit process. */
  peb(p: ProcessPlan): void {
    const r = new Prng(mixSeed(this.plan.spec.seed, 0x504542, p.index));
    const ptr64 = this.ptr64;
    const A = (a: Addr): string => ptr(a, ptr64);
    const space = ptr64 && !p.wow64 ? 'u64' : 'u32';
    const heap: Addr = { hi: 0, lo: r.int(0x10, 0x7ff) << 16 };
    const image = this.imagePath(p);
    const win = this.winDir();
    const sys = this.sysDir();
    const dllDir = p.wow64 ? `${win}\SysWOW64` : sys;
    const m = this.modern;
    const exe = p.image === 'WerFault.exe' ? 'WerFault' : p.module;
    const mods: Array<[string, string]> = [
      [exe, image],
      ['ntdll', `${p.wow64 ? dllDir : win + '\\SYSTEM32'}\\ntdll.dll`],
      [m ? 'KERNEL32' : 'kernel32', `${dllDir}\\${m ? 'KERNEL32.DLL' : 'kernel32.dll'}`],
      ['KERNELBASE', `${dllDir}\\KERNELBASE.dll`],
      ['USER32', `${dllDir}\\USER32.dll`],
    ];
    const ntdll = this.threads.moduleBase(p, 'ntdll', space);
    this.line(`PEB at ${ptr(p.peb, ptr64)}`);
    this.line('    InheritedAddressSpace:    No');
    this.line('    ReadImageFileExecOptions: No');
    this.line('    BeingDebugged:            No');
    this.line(`    ImageBaseAddress:         ${A(this.threads.moduleBase(p, exe, space))}`);
    if (this.modern) {
      this.line('    NtGlobalFlag:             0');
      this.line('    NtGlobalFlag2:            0');
    }
    this.line(`    Ldr                       ${A(add(ntdll, 0x16c4c0))}`);
    this.line('    Ldr.Initialized:          Yes');
    this.line(`    Ldr.InInitializationOrderModuleList: ${A(add(heap, 0x2a50))} . ${A(add(heap, 0x2f80))}`);
    this.line(`    Ldr.InLoadOrderModuleList:           ${A(add(heap, 0x29c0))} . ${A(add(heap, 0x8a00))}`);
    this.line(`    Ldr.InMemoryOrderModuleList:         ${A(add(heap, 0x29d0))} . ${A(add(heap, 0x8a10))}`);
    this.line('                    Base TimeStamp                     Module');
    for (const [mod, path] of mods) {
      const b = this.threads.moduleBase(p, mod, space);
      const base = b.hi === 0 ? b.lo.toString(16) : b.hi.toString(16) + hex8(b.lo);
      this.line(`${base.padStart(24)} ${hex8(r.next())} ${this.stamp(r)} ${path}`);
    }
    this.line(`    SubSystemData:     ${A({ hi: 0, lo: 0 })}`);
    this.line(`    ProcessHeap:       ${A(heap)}`);
    this.line(`    ProcessParameters: ${A(add(heap, 0x1a00))}`);
    this.line(`    CurrentDirectory:  '${sys}\\'`);
    this.line(`    WindowTitle:  '${image}'`);
    this.line(`    ImageFile:    '${image}'`);
    this.line(`    CommandLine:  '${this.commandLine(p)}'`);
    this.line(`    DllPath:      '${dllDir};${sys};${win}\\system;${win}'`);
    this.line(`    Environment:  ${A(add(heap, 0x0a10))}`);
    if (this.r.chance(0.3)) this.line('       Unable to read Environment string.');
  }

  private winDir(): string {
    return this.nt4 ? 'C:\\WINNT' : this.modern ? 'C:\\WINDOWS' : 'C:\\Windows';
  }

  private sysDir(): string {
    return this.nt4 ? 'C:\\WINNT\\system32' : this.modern ? 'C:\\WINDOWS\\system32' : 'C:\\Windows\\System32';
  }

  private imagePath(p: ProcessPlan): string {
    if (p.image === 'WerFault.exe') return p.wow64 ? `${this.winDir()}\\SysWOW64\\WerFault.exe` : `${this.sysDir()}\\WerFault.exe`;
    return `${this.sysDir()}\\${p.image}`;
  }

  /** The command line `!peb` shows for a process. */
  commandLine(p: ProcessPlan): string {
    const path = this.imagePath(p);
    if (p.image === 'WerFault.exe') return p.pss ? `${path} -pss -s ${p.sArg} -p ${p.reportsPid} -ip ${p.reportsPid}` : `${path} -u -p ${p.reportsPid} -s ${p.sArg}`;
    if (p.image === 'svchost.exe') return `${path} -k ${['netsvcs', 'LocalServiceNetworkRestricted', 'DcomLaunch', 'RPCSS', 'WerSvcGroup'][p.index % 5]}`;
    return `"${path}" `;
  }

  private stamp(r: Prng): string {
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const two = (n: number): string => String(n).padStart(2, '0');
    return `${r.pick(months)} ${two(r.int(1, 28))} ${two(r.int(0, 23))}:${two(r.int(0, 59))}:${two(r.int(0, 59))} ${r.int(2009, 2023)}`;
  }

  // ---------------------------------------------------------------- banner, closing, noise

  private banner(): void {
    const { spec } = this.plan;
    const b = osBanner(spec.os, spec.arch, this.choices.cpus);
    const r = new Prng(mixSeed(spec.seed, 0x42414e));
    const dumpPath = `${r.pick(['C:\\Windows', 'D:\\dumps', 'C:\\cases\\' + r.int(100000, 999999), 'E:\\crash'])}\\MEMORY.DMP`;
    const ver = familyOf(spec.os) === 'win7' ? '6.3.9600.17298' : familyOf(spec.os) === 'nt4' ? '6.12.0002.633' : '10.0.22621.2428';
    const hostArch = spec.arch === 'x64' || r.chance(0.7) ? 'AMD64' : 'X86';
    const kernelBase = this.ptr64 ? (this.modern ? '0xfffff807`1e000000 PsLoadedModuleList = 0xfffff807`1ec2a2b0' : '0xfffff800`01a5f000 PsLoadedModuleList = 0xfffff800`01c9e6d0') : '0x82a0b000 PsLoadedModuleList = 0x82b55850';
    const info = (): void => {
      this.line(b.version);
      this.line(b.product);
      this.line(b.build);
      this.line('Machine Name:');
      this.line(`Kernel base = ${kernelBase}`);
      this.line(`Debug session time: ${this.stamp(r).replace(/^(\w+) (\d+) ([\d:]+) (\d+)$/, 'Tue $1 $2 $3.' + String(r.int(0, 999)).padStart(3, '0') + ' $4')} (UTC + 1:00)`);
      this.line(`System Uptime: ${r.int(0, 40)} days ${r.int(0, 23)}:${String(r.int(0, 59)).padStart(2, '0')}:${String(r.int(0, 59)).padStart(2, '0')}.${String(r.int(0, 999)).padStart(3, '0')}`);
    };
    if (spec.debugger === 'windbg') {
      const log = `C:\\logs\\case${r.int(1000, 9999)}.log`;
      if (this.modern) this.line('************* Preparing the environment for Debugger Extensions Gallery repositories **************');
      this.cmd(`.logopen ${log}`);
      this.line(`Opened log file '${log}'`);
      this.cmd('vertarget');
      info();
      return;
    }
    this.line(`Microsoft (R) Windows Debugger Version ${ver} ${hostArch}`);
    this.line('Copyright (c) Microsoft Corporation. All rights reserved.');
    this.line('');
    this.line('');
    this.line(`Loading Dump File [${dumpPath}]`);
    this.line(r.chance(0.5) ? 'Kernel Bitmap Dump File: Kernel address space is available, User address space may not be available.' : 'Kernel Complete Dump File: Full address space is available');
    this.line('');
    this.line('Symbol search path is: srv*c:\\symbols');
    this.line('Executable search path is: ');
    info();
    this.line('Loading Kernel Symbols');
    this.line('.'.repeat(63));
    this.line('.'.repeat(64));
    this.line('Loading User Symbols');
    this.line('Loading unloaded module list');
    this.line('.'.repeat(r.int(4, 40)));
    this.bugcheckBox();
    this.line('');
    this.line('Use !analyze -v to get detailed debugging information.');
    this.line('');
    this.line('BugCheck E2, {0, 0, 0, 0}');
    this.line('');
    this.line(`Probably caused by : ${this.nt4 ? 'ntoskrnl.exe' : 'ntkrnlmp.exe'} ( nt!KeBugCheckEx )`);
    this.line('');
    this.line('Followup: MachineOwner');
    this.line('---------');
    if (spec.debugger === 'cdb') {
      this.line('');
      this.cmd('$$< c:\\scripts\\wer-triage.txt');
    }
  }

  private bugcheckBox(): void {
    this.line('*******************************************************************************');
    this.line('*                                                                             *');
    this.line('*                        Bugcheck Analysis                                    *');
    this.line('*                                                                             *');
    this.line('*******************************************************************************');
  }

  private closing(): void {
    const d = this.plan.spec.debugger;
    if (d === 'cdb') {
      this.cmd('q');
      this.line('quit:');
    } else if (d === 'windbg') {
      this.cmd('.logclose');
      this.line('Closing open log file C:\\logs\\case.log');
    }
  }

  /**
   * Unrelated output between commands: a block now and then, and more while the share of noise
   * in the bytes so far is below noise / (1 + noise) (a third at 0.5, half at 1).
   */
  private maybeNoise(): void {
    if (this.noise <= 0) return;
    const share = this.noise / (1 + this.noise);
    let budget = 12;
    while (budget-- > 0 && (this.noiseChars < share * this.sink.total || this.r.chance(this.noise * 0.3))) {
      const kinds = this.listed ? NOISE_KINDS : NOISE_KINDS_BEFORE_LIST;
      const before = this.sink.total;
      this.noiseBlock(this.r.pick(kinds));
      this.noiseChars += this.sink.total - before;
    }
  }

  /** Noise that can appear inside one command's output: a warning, blank lines, an elision. */
  private inlineNoise(): void {
    const r = this.r;
    const roll = r.int(0, 3);
    const mod = r.pick(['vmtoolsd.exe', 'mfehidk.sys', 'SRTSP64.SYS', 'naPrdMgr.exe', 'ccSvcHst.exe', 'tmcomm.sys']);
    if (roll === 0) this.noiseBlock('blank');
    else if (roll === 1) this.noiseBlock('elision');
    else this.line(r.chance(0.5) ? `*** ERROR: Module load completed but symbols could not be loaded for ${mod}` : `*** WARNING: Unable to verify timestamp for ${mod}`);
  }

  /** One block of unrelated but realistic output (changes no fact of the answer). */
  noiseBlock(kind: NoiseKind): void {
    const r = this.r;
    const ptr64 = this.ptr64;
    const K = (lo: number): string => ptrTick(this.ptr64 ? { hi: this.plan.family === 'win7' ? 0xfffff880 : 0xfffff807, lo } : { hi: 0, lo: 0x8f000000 + (lo & 0x0fffffff) }, ptr64);
    switch (kind) {
      case 'locks': {
        this.cmd('!locks');
        this.line('**** DUMP OF ALL RESOURCE OBJECTS ****');
        this.line('KD: Scanning for held locks..');
        this.line('');
        const owner = ptr(ptr64 ? { hi: this.plan.poolHi, lo: r.next() & 0xfffffff0 } : { hi: 0, lo: 0x84000000 + (r.next() & 0x3ffffff8) }, ptr64);
        this.line(`Resource @ nt!PopPolicyLock (0x${ptr(this.ptr64 ? { hi: 0xfffff800, lo: 0x01c8d3a0 } : { hi: 0, lo: 0x82b4d3a0 }, ptr64)})    Exclusively owned`);
        this.line(`    Contention Count = ${r.int(1, 40)}`);
        this.line(`     Threads: ${owner}-01<*> `);
        this.line('KD: Scanning for held locks' + '.'.repeat(r.int(10, 60)));
        this.line('');
        this.line(`${r.int(2000, 90000)} total locks, 1 locks currently held`);
        return;
      }
      case 'lm': {
        this.cmd('lm');
        this.line(ptr64 ? 'start             end                 module name' : 'start    end        module name');
        const mods = ['nt', 'hal', 'kdcom', 'CLFS', 'ACPI', 'Ntfs', 'fltmgr', 'tcpip', 'NETIO', 'ksecdd', 'mfehidk', 'i8042prt', 'win32k', 'crashdmp'];
        let at = r.next() & 0x0fff0000;
        for (const m of mods) {
          const size = (r.int(0x10, 0x600) << 12) >>> 0;
          const state = m === 'nt' ? `(pdb symbols)          c:\\symbols\\${ptr64 ? 'ntkrnlmp' : 'ntkrpamp'}.pdb\\${hex8(r.next()).toUpperCase()}${hex8(r.next()).toUpperCase()}2\\${ptr64 ? 'ntkrnlmp' : 'ntkrpamp'}.pdb` : r.chance(0.8) ? '(deferred)             ' : '(no symbols)           ';
          this.line(`${K(at)} ${K(at + size)}   ${m.padEnd(10)} ${state}`);
          at += size + 0x1000;
        }
        this.line('');
        this.line('Unloaded modules:');
        this.line(`${K(at + 0x20000)} ${K(at + 0x2e000)}   crashdmp.sys`);
        this.line(`${K(at + 0x40000)} ${K(at + 0x4d000)}   dump_storport.sys`);
        return;
      }
      case 'regs': {
        this.cmd('r');
        if (ptr64) {
          const q = (): string => hex8(r.chance(0.5) ? 0 : r.next()) + hex8(r.next());
          this.line(`rax=${q()} rbx=${q()} rcx=${q()}`);
          this.line(`rdx=${q()} rsi=${q()} rdi=${q()}`);
          this.line(`rip=fffff80001ad6f00 rsp=${q()} rbp=${q()}`);
          this.line(` r8=${q()}  r9=${q()} r10=${q()}`);
          this.line(`r11=${q()} r12=${q()} r13=${q()}`);
          this.line(`r14=${q()} r15=${q()}`);
          this.line('iopl=0         nv up ei pl nz na pe nc');
          this.line('cs=0010  ss=0018  ds=002b  es=002b  fs=0053  gs=002b             efl=00000282');
          this.line('nt!KeBugCheckEx:');
          this.line('fffff800`01ad6f00 48894c2408      mov     qword ptr [rsp+8],rcx');
        } else {
          const d = (): string => hex8(r.next());
          this.line(`eax=${d()} ebx=${d()} ecx=${d()} edx=${d()} esi=${d()} edi=${d()}`);
          this.line(`eip=82ad6f00 esp=${d()} ebp=${d()} iopl=0         nv up ei pl nz na po nc`);
          this.line('cs=0008  ss=0010  ds=0023  es=0023  fs=0030  gs=0000             efl=00000202');
          this.line('nt!KeBugCheckEx:');
          this.line('82ad6f00 8bff            mov     edi,edi');
        }
        return;
      }
      case 'warnings': {
        this.line(`*** WARNING: Unable to verify timestamp for ${r.pick(['mssmbios.sys', 'vmci.sys', 'klif.sys', 'epfwwfp.sys'])}`);
        this.line(`*** ERROR: Module load completed but symbols could not be loaded for ${r.pick(['klif.sys', 'epfwwfp.sys', 'SymEFASI64.sys', 'cbfs6.sys'])}`);
        if (r.chance(0.5)) this.line(`Unable to load image \\SystemRoot\\system32\\DRIVERS\\${r.pick(['vsepflt.sys', 'tmevtmgr.sys', 'aswSP.sys'])}, Win32 error 0n2`);
        if (r.chance(0.3)) {
          this.line('*************************************************************************');
          this.line('***                                                                   ***');
          this.line('***    Either you specified an unqualified symbol, or your debugger   ***');
          this.line('***    doesn\'t have full symbol information.                          ***');
          this.line('***                                                                   ***');
          this.line('*************************************************************************');
        }
        return;
      }
      case 'blank':
        for (let i = r.int(1, 3); i > 0; i--) this.line(r.chance(0.2) ? ' ' : '');
        return;
      case 'vm':
        this.cmd('!vm');
        this.line('');
        this.line('*** Virtual Memory Usage ***');
        this.line(`\tPhysical Memory:     ${String(r.int(500000, 9000000)).padStart(7)} (  ${r.int(2000000, 36000000)} Kb)`);
        this.line('\tPage File: \\??\\C:\\pagefile.sys');
        this.line(`\t  Current:  ${r.int(1000000, 16000000)} Kb  Free Space:  ${r.int(100000, 16000000)} Kb`);
        this.line(`\tAvailable Pages:     ${String(r.int(1000, 900000)).padStart(7)} (   ${r.int(4000, 3600000)} Kb)`);
        this.line(`\tResAvail Pages:      ${String(r.int(1000, 900000)).padStart(7)} (   ${r.int(4000, 3600000)} Kb)`);
        this.line(`\tCommit Charge:       ${String(r.int(1000, 9000000)).padStart(7)} (  ${r.int(4000, 36000000)} Kb)`);
        this.line('\t********** 1 commit requests have failed  **********');
        return;
      case 'elision':
        this.line(r.chance(0.5) ? '...' : '<snip>');
        return;
      case 'thread': {
        if (this.paddable.length === 0) return;
        const p = this.plan.processes[r.pick(this.paddable)] as ProcessPlan;
        this.reprint({ kind: 'thread', p: p.index, t: r.int(0, Math.min(p.threadCount, 8) - 1) });
        return;
      }
      case 'ordinary-process': {
        if (this.paddable.length === 0) return;
        this.reprint({ kind: 'detail', p: r.pick(this.paddable) });
        return;
      }
      case 'ordinary-peb': {
        if (this.paddable.length === 0 || this.nt4) return;
        const p = this.plan.processes[r.pick(this.paddable)] as ProcessPlan;
        if (p.image === 'System' || p.image === 'Registry') return;
        this.setProcess(p);
        this.cmd('!peb');
        this.peb(p);
        return;
      }
      case 'analyze':
        this.cmd('!analyze -v');
        this.bugcheckBox();
        this.line('');
        this.line('MANUALLY_INITIATED_CRASH (e2)');
        this.line('The user manually initiated this crash dump.');
        this.line('Arguments:');
        for (let i = 1; i <= 4; i++) this.line(`Arg${i}: ${ptr64 ? '0000000000000000' : '00000000'}`);
        this.line('');
        this.line('Debugging Details:');
        this.line('------------------');
        this.line('');
        this.line('BUGCHECK_CODE:  e2');
        this.line('PROCESS_NAME:  System');
        return;
    }
  }
}
