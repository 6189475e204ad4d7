/**
 * Threads and stacks, derived on demand from the plan: the same (process, thread) always yields
 * the same thread, so a thread printed twice (`!process … ff`, then `.thread` + `k`) agrees.
 */
import { APP_FUNCTIONS, FAULT_FUNCTIONS, type FrameSpec, siteOf, kernelFrames, type KernelFrames, moduleBases, type ThreadKind, user32, user64, type UserFrames, type UserTemplate, wow64View } from './catalog';
import { type Addr, add, ptr, ptrTick, rawSite } from './format';
import type { DumpPlan, FaultThread, ProcessPlan } from './plan';
import { hashString, mixSeed, Prng } from './prng';

/** What a thread is doing. `fault`: waiting for its reporter; `werLeaf`: a WerFault.exe reporting. */
export type ThreadRole = ThreadKind | 'fault' | 'werLeaf';

/** A thread with everything its THREAD line and details print. */
export interface ThreadInfo {
  readonly t: number;
  readonly tid: number;
  readonly addr: Addr;
  readonly addrText: string;
  readonly addrTick: string;
  readonly role: ThreadRole;
  readonly fault: FaultThread | undefined;
  /** `WAIT: (UserRequest) UserMode Non-Alertable`, `RUNNING on processor 0`, … */
  readonly state: string;
  /** Wait objects: [address text, type text]. */
  readonly waits: ReadonlyArray<readonly [string, string]>;
  readonly teb: Addr;
  readonly win32: Addr | null;
  readonly notResident: boolean;
  readonly stackInit: Addr;
  readonly current: Addr;
  readonly base: Addr;
  readonly limit: Addr;
  readonly seed: number;
}

/** One printed frame. */
export interface Frame {
  readonly sp: Addr;
  readonly ret: Addr;
  readonly site: string;
  /** Print `WARNING: Frame IP not in any known module. Following frames may be wrong.` before it. */
  readonly warn: boolean;
  /** `(TrapFrame @ …)` suffix on the system-service frame. */
  readonly trap: Addr | null;
}

/** Shared per-dump tables for thread and frame derivation. */
export class ThreadFactory {
  private readonly kernel: KernelFrames;
  private readonly u64: UserFrames | null;
  private readonly u32: UserFrames;
  private readonly bases: ReturnType<typeof moduleBases>;
  private readonly rva = new Map<string, number>();
  private readonly ipCache = { k: new Map<FrameSpec, Addr>(), u64: new Map<FrameSpec, Addr>(), u32: new Map<FrameSpec, Addr>() };
  private readonly ordinary: number[];

  constructor(readonly plan: DumpPlan) {
    const { family, spec } = plan;
    this.kernel = kernelFrames(family, spec.arch);
    this.u64 = spec.arch === 'x64' ? user64(family, spec.os) : null;
    this.u32 = user32(family, spec.arch === 'x86');
    this.bases = moduleBases(family, spec.arch);
    this.ordinary = plan.processes.filter((p) => p.role === 'ordinary' && !p.zombie && p.image !== 'WerFault.exe').map((p) => p.index);
  }

  /** Thread `t` of process `p`. */
  thread(p: ProcessPlan, t: number): ThreadInfo {
    const { plan } = this;
    const ptr64 = plan.ptr64;
    const seed = mixSeed(plan.spec.seed, 0x544852, p.index, t);
    const r = new Prng(seed);
    const counter = p.firstThread + t;
    const tid = plan.cidOf(counter);
    const addr = plan.addrOf(counter);
    const fault = t < p.faults.length ? p.faults[t] : undefined;
    let role: ThreadRole;
    if (fault) role = 'fault';
    else if (p.image === 'WerFault.exe') role = p.leaf && t === p.faults.length ? 'werLeaf' : 'queue';
    else if (p.image === 'System' || p.image === 'Registry') role = p.running && t === 0 ? 'running' : 'system';
    else role = r.chance(0.5) ? (p.kinds[0] as ThreadKind) : r.pick(p.kinds);
    const obj = (): string => ptr(ptr64 ? { hi: plan.poolHi, lo: r.next() & 0xfffffff0 } : { hi: 0, lo: 0x84000000 + (r.next() & 0x3ffffff8) }, ptr64);
    const waits: Array<readonly [string, string]> = [];
    let state: string;
    switch (role) {
      case 'fault': {
        state = 'WAIT: (UserRequest) UserMode Non-Alertable';
        if (fault!.waiting) {
          if (r.chance(0.5)) waits.push([obj(), 'NotificationEvent']);
          waits.push([plan.processes[fault!.reporter]!.addrText, 'ProcessObject']);
        } else {
          waits.push([obj(), 'NotificationEvent'], [obj(), 'SynchronizationEvent']);
        }
        break;
      }
      case 'werLeaf':
        state = 'WAIT: (WrUserRequest) UserMode Non-Alertable';
        waits.push([obj(), 'SynchronizationEvent'], [obj(), 'NotificationEvent']);
        break;
      case 'single': {
        state = r.chance(0.8) ? 'WAIT: (UserRequest) UserMode Non-Alertable' : 'WAIT: (UserRequest) UserMode Alertable';
        const other = this.ordinary.length > 1 && r.chance(0.04) ? (this.ordinary[r.int(0, this.ordinary.length - 1)] as number) : -1;
        if (other >= 0 && other !== p.index) waits.push([plan.processes[other]!.addrText, 'ProcessObject']);
        else waits.push([obj(), r.chance(0.5) ? 'SynchronizationEvent' : 'NotificationEvent']);
        break;
      }
      case 'queue':
        state = 'WAIT: (WrQueue) UserMode Alertable';
        waits.push([ptr(this.queueOf(p), ptr64), 'QueueObject']);
        break;
      case 'gui':
        state = 'WAIT: (WrUserRequest) UserMode Non-Alertable';
        waits.push([obj(), 'SynchronizationEvent']);
        break;
      case 'sleep':
        state = 'WAIT: (DelayExecution) UserMode Alertable';
        break;
      case 'alpc':
        state = 'WAIT: (WrLpcReceive) UserMode Non-Alertable';
        waits.push([obj(), 'Semaphore Limit 0x1']);
        break;
      case 'system':
        state = r.chance(0.7) ? 'WAIT: (WrQueue) KernelMode Non-Alertable' : 'WAIT: (Executive) KernelMode Non-Alertable';
        waits.push([obj(), state.includes('WrQueue') ? 'QueueObject' : 'SynchronizationEvent']);
        break;
      case 'running':
        state = 'RUNNING on processor 0';
        break;
    }
    const kernelOnly = role === 'system' || role === 'running';
    const teb = kernelOnly ? { hi: 0, lo: 0 } : this.tebOf(p, t);
    const gui = role === 'gui' || role === 'werLeaf' || role === 'fault' || r.chance(0.15);
    const win32 = gui && !kernelOnly ? (ptr64 ? { hi: plan.family === 'win7' ? 0xfffff900 : plan.poolHi, lo: r.next() & 0xfffffff0 } : { hi: 0, lo: 0xfe000000 + (r.next() & 0x00fffff8) }) : null;
    const notResident = fault ? fault.stack === 'paged-out' : !kernelOnly && r.chance(0.04);
    let base: Addr;
    let stackInit: Addr;
    let limit: Addr;
    if (ptr64) {
      base = { hi: plan.stackHi, lo: (0x01000000 + (r.next() & 0x3ffff000)) >>> 0 };
      stackInit = { hi: base.hi, lo: base.lo - (plan.family === 'win7' ? 0x250 : 0x9b0) };
      limit = { hi: base.hi, lo: base.lo - (plan.family === 'win7' ? 0x6000 : 0x7000) };
    } else {
      base = { hi: 0, lo: 0x8a000000 + (r.next() & 0x0ffff000) };
      stackInit = base;
      limit = { hi: 0, lo: base.lo - 0x3000 };
    }
    const current = { hi: stackInit.hi, lo: stackInit.lo - (r.int(0x70, 0xa0) << 4) };
    return { t, tid, addr, addrText: ptr(addr, ptr64), addrTick: ptrTick(addr, ptr64), role, fault, state, waits, teb, win32, notResident, stackInit, current, base, limit, seed };
  }

  /** The queue all worker threads of a process wait on. */
  queueOf(p: ProcessPlan): Addr {
    const v = mixSeed(this.plan.spec.seed, 0x51, p.index);
    return this.plan.ptr64 ? { hi: this.plan.poolHi, lo: v & 0xfffffff0 } : { hi: 0, lo: 0x84000000 + (v & 0x3ffffff8) };
  }

  /** TEB of thread `t`: below the PEB, one page pair per thread as the loader lays them out. */
  tebOf(p: ProcessPlan, t: number): Addr {
    const { plan } = this;
    if (!plan.ptr64) return { hi: 0, lo: 0x7ffde000 - 0x1000 * (t % 0x100) };
    if (plan.family === 'win7') return p.wow64 ? { hi: 0, lo: 0x7efdb000 - 0x3000 * (t % 0x400) } : { hi: 0x7ff, lo: 0xfffde000 - 0x2000 * (t % 0x400) };
    return add(p.peb, 0x1000 + 0x2000 * t);
  }

  /** Address of `module!function` (+offset) in kernel, native user or 32-bit user space. */
  symbolAddr(p: ProcessPlan, m: string, f: string, o: number, space: 'k' | 'u64' | 'u32'): Addr {
    return this.ip(p, { m, f, o }, space);
  }

  /** Load address of a module in a process (system table or the process's own image). */
  moduleBase(p: ProcessPlan, m: string, space: 'u64' | 'u32'): Addr {
    return (space === 'u64' ? this.bases.user64 : this.bases.user32)[m] ?? this.appBase(p, space === 'u32');
  }

  private rvaOf(f: string): number {
    let v = this.rva.get(f);
    if (v === undefined) {
      v = 0x1000 + (hashString(f) & 0xffff0);
      this.rva.set(f, v);
    }
    return v;
  }

  private appBase(p: ProcessPlan, bits32: boolean): Addr {
    const h = hashString(p.image);
    if (bits32) return { hi: 0, lo: 0x00400000 + ((h & 0xff) << 16) };
    if (this.plan.family === 'win7') return { hi: 0, lo: 0xff000000 + ((h & 0x3f) << 16) };
    return { hi: 0x7ff6 + (h & 1), lo: (h & 0xfff0) << 16 };
  }

  private ip(p: ProcessPlan, f: FrameSpec, space: 'k' | 'u64' | 'u32'): Addr {
    // template frames of system modules sit at the same address in every process
    const system = f.site !== undefined && (space === 'k' ? this.bases.kernel : space === 'u64' ? this.bases.user64 : this.bases.user32)[f.m] !== undefined;
    if (system) {
      const cache = this.ipCache[space];
      const hit = cache.get(f);
      if (hit) return hit;
      const v = this.ipUncached(p, f, space);
      cache.set(f, v);
      return v;
    }
    return this.ipUncached(p, f, space);
  }

  private ipUncached(p: ProcessPlan, f: FrameSpec, space: 'k' | 'u64' | 'u32'): Addr {
    let base: Addr | undefined;
    if (space === 'k') base = this.bases.kernel[f.m] ?? { hi: this.plan.ptr64 ? 0xfffff880 : 0, lo: (this.plan.ptr64 ? 0x04000000 : 0x8f000000) + ((hashString(f.m) & 0x3ff) << 16) };
    else base = (space === 'u64' ? this.bases.user64 : this.bases.user32)[f.m] ?? this.appBase(p, space === 'u32');
    return add(base, this.rvaOf(f.f) + f.o);
  }

  private appFrames(p: ProcessPlan, r: Prng, n: number, fault: boolean): FrameSpec[] {
    const out: FrameSpec[] = [];
    for (let i = 0; i < n; i++) {
      const f = fault && i === 0 ? r.pick(FAULT_FUNCTIONS) : r.pick(APP_FUNCTIONS);
      out.push({ m: p.module, f, o: r.int(0x8, 0x3ff) });
    }
    return out;
  }

  private fill(p: ProcessPlan, r: Prng, tmpl: UserTemplate, target: number, fixedAbove: number): FrameSpec[] {
    const fixed = fixedAbove + tmpl.top.length + tmpl.bottom.length;
    const apps = tmpl.app ? Math.max(1, target - fixed) : 0;
    return [...tmpl.top, ...this.appFrames(p, r, Math.min(apps, 64), false), ...tmpl.bottom];
  }

  /**
   * The frames of a thread. `view` `'kernel'` is what `!process … ff`, `!thread` and `k` after
   * `.thread` print (kernel frames, then user frames); `'x86'` is the 32-bit stack of a WOW64
   * thread after `.thread /w`. `symbolic` false prints user frames as bare addresses.
   */
  frames(p: ProcessPlan, info: ThreadInfo, view: 'kernel' | 'x86', symbolic: boolean): Frame[] {
    const { plan } = this;
    const r = new Prng(info.seed ^ 0x5a5a5a5a);
    const [fMin, fMax] = plan.spec.framesPerStack;
    const target = r.int(fMin, fMax);
    const role = info.role;
    const kind: keyof KernelFrames = role === 'fault' || role === 'werLeaf' ? 'multi' : role;
    const native32 = plan.spec.arch === 'x86';
    const bits32 = native32 || p.wow64;
    const userSpace: 'u64' | 'u32' = bits32 ? 'u32' : 'u64';
    const uf = (bits32 ? this.u32 : this.u64) as UserFrames;

    const kernel: FrameSpec[] = view === 'kernel' ? this.kernel[kind] : [];
    let user: FrameSpec[] = [];
    let dispatcherAt = -1;
    const crashed = role === 'fault';
    const absent = crashed && info.fault!.stack === 'absent';
    if (role === 'system' || role === 'running') {
      user = [];
    } else if (view === 'kernel' && p.wow64) {
      user = wow64View(plan.family, kind === 'multi');
    } else if (crashed) {
      const t = uf.fault;
      const faultFrames = p.image === 'WerFault.exe' ? uf.werFault : this.appFrames(p, r, Math.min(40, Math.max(1, target - kernel.length - t.top.length - t.bottom.length)), true);
      user = [...t.top, ...faultFrames, ...t.bottom];
      dispatcherAt = kernel.length + t.top.length - 1;
    } else if (role === 'werLeaf') {
      user = [...uf.werLeaf.top, ...uf.werLeaf.bottom];
    } else {
      user = this.fill(p, r, uf.kinds[role], target, kernel.length);
    }
    // ordinary stacks honour framesPerStack: `k` stops there (the frames below still exist)
    const shown = !crashed && role !== 'werLeaf' && kernel.length + user.length > target ? Math.max(1, target) : kernel.length + user.length;
    const ptr64 = plan.ptr64;
    const out: Frame[] = [];
    const specs = [...kernel, ...user];
    const spaces = specs.map((_, i) => (i < kernel.length ? 'k' : view === 'kernel' && p.wow64 ? 'u64' : userSpace) as 'k' | 'u64' | 'u32');
    const ips = specs.map((f, i) => this.ip(p, f, spaces[i] as 'k' | 'u64' | 'u32'));
    // stack pointers: kernel stack first, then the user stack
    let ksp = add(info.current, 0x40);
    let usp: Addr = this.userStack(p, info, r, view === 'x86' || (bits32 && !(view === 'kernel' && p.wow64)));
    const codeOnStack = crashed && info.fault!.codeOnStack && view === (p.wow64 ? 'x86' : 'kernel') && !absent;
    for (let i = 0; i < shown; i++) {
      const f = specs[i] as FrameSpec;
      const kernelFrame = spaces[i] === 'k';
      let sp: Addr;
      if (kernelFrame) {
        sp = ksp;
        ksp = add(ksp, r.int(4, 0xc) << 4);
      } else {
        sp = usp;
        usp = add(usp, r.int(1, 0x40) << (ptr64 && spaces[i] === 'u64' ? 4 : 2));
      }
      const raw = !kernelFrame && (!symbolic || absent) && !(view === 'kernel' && p.wow64);
      const site = raw ? rawSite(ips[i] as Addr) : f.site ?? siteOf(f);
      const trap = kernelFrame && (f.f === 'KiSystemServiceCopyEnd' || f.f === 'KiFastCallEntry') ? add(sp, ptr64 ? 0x70 : 0x20) : null;
      out.push({ sp, ret: { hi: 0, lo: 0 }, site, warn: false, trap });
    }
    // return addresses: each frame returns into the next one's function
    for (let i = 0; i < out.length; i++) (out[i] as { ret: Addr }).ret = i + 1 < ips.length ? (ips[i + 1] as Addr) : { hi: 0, lo: 0 };
    if (codeOnStack && dispatcherAt >= 0 && dispatcherAt + 1 < out.length) {
      const d = out[dispatcherAt] as Frame;
      const code = add(d.sp, 0xc);
      (out[dispatcherAt] as { ret: Addr }).ret = code;
      const next = out[dispatcherAt + 1] as Frame;
      out[dispatcherAt + 1] = { ...next, site: rawSite(code), warn: true };
    }
    return out;
  }

  private userStack(p: ProcessPlan, info: ThreadInfo, r: Prng, bits32: boolean): Addr {
    const { plan } = this;
    const low = (r.next() & 0xff8) | 0;
    if (bits32) return { hi: 0, lo: ((r.int(0x08, 0x4ff) << 12) | low) >>> 0 };
    if (p.wow64) return { hi: 0, lo: (0x0008e000 + (info.t << 20) + low) >>> 0 };
    if (plan.family === 'win7') return { hi: 0, lo: ((r.int(0x10, 0x7ff) << 16) | (r.next() & 0xfff8)) >>> 0 };
    return { hi: p.peb.hi, lo: (r.next() & 0xfffffff8) >>> 0 };
  }
}
