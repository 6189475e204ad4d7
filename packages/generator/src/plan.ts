/**
 * The plan of one dump: every process, its ids, addresses, role and WER links, decided before a
 * single line is written. The text renderer and the known answer both read from it, so they
 * cannot disagree. Memory is O(processes); threads and stacks are derived on demand.
 */
import { familyOf, moduleOf, pool, ROOT_IMAGES_32, ROOT_IMAGES_64, skeleton, type Family, type ThreadKind } from './catalog';
import { GeneratorError } from './errors';
import { type Addr, countField, hexMin8, hexPad, ptr, ptrTick } from './format';
import { mixSeed, Permutation, Prng } from './prng';
import { EVIDENCE_KINDS, type EvidenceKind, type NormalizedSpec, type RootStack } from './spec';

/** What a process is in the story of the dump. */
export type Role = 'ordinary' | 'root' | 'reporter' | 'decoy';

/** A thread of a crashed process that waits in WerpReportFaultInternal for one reporter. */
export interface FaultThread {
  /** Index of the WerFault.exe process reporting this fault. */
  readonly reporter: number;
  /** Whether its wait list names the reporter's ProcessObject (the `waiting` evidence). */
  readonly waiting: boolean;
  /** How its stack is printed. */
  readonly stack: RootStack;
  /** The exception stack shows code on the stack (`000bf7b4 000bf7c0 …KiUserExceptionDispatcher`). */
  readonly codeOnStack: boolean;
}

/** One process of the plan, with its printed fields already formatted. */
export interface ProcessPlan {
  readonly index: number;
  readonly pid: number;
  readonly parentPid: number;
  readonly image: string;
  readonly module: string;
  readonly role: Role;
  /** `null` prints as `SessionId: none`. */
  readonly session: number | null;
  readonly wow64: boolean;
  readonly zombie: boolean;
  readonly addr: Addr;
  /** `fffffa8058010380` (x64) / `8578a030` (x86). */
  readonly addrText: string;
  /** `fffffa80`58010380`. */
  readonly addrTick: string;
  /** `488f0` (at least 4 digits). */
  readonly cid: string;
  readonly parentCid: string;
  readonly peb: Addr;
  readonly pebText: string;
  readonly dirBaseText: string;
  readonly objectTableText: string;
  /** `  54.` (already right-aligned with the dot). */
  readonly handleText: string;
  readonly handles: number;
  /** Thread kinds drawn for ordinary threads. */
  readonly kinds: readonly ThreadKind[];
  /** Threads in total: fault threads first, then `werLeaf` (WerFault.exe leaves), then ordinary. */
  readonly threadCount: number;
  /** Counter of thread 0; thread t has counter firstThread + t. */
  readonly firstThread: number;
  readonly faults: FaultThread[];
  /** WerFault.exe only: the pid this one reports on (decimal in `-p`). */
  readonly reportsPid: number;
  /** WerFault.exe only: index of the reported process, -1 when it is not in the dump. */
  readonly reportsIndex: number;
  /** WerFault.exe only: sorted evidence kinds printed for its link. */
  readonly evidence: EvidenceKind[];
  /** WerFault.exe only: has no reporter of its own. */
  readonly leaf: boolean;
  /** WerFault.exe only: `-s` argument. */
  readonly sArg: number;
  /** WerFault.exe only: command line in `-pss` form. */
  readonly pss: boolean;
  /** The System process's first thread is the one RUNNING the bugcheck. */
  readonly running: boolean;
}

/** One leaf-to-root chain of the answer. */
export interface ChainPlan {
  readonly rootPid: number;
  readonly rootImage: string | null;
  readonly rootIndex: number;
  readonly rootStack: RootStack;
  /** Reporter indices from the root outward. */
  readonly path: number[];
  readonly decoy: boolean;
}

/** The whole plan of a dump. */
export interface DumpPlan {
  readonly spec: NormalizedSpec;
  readonly family: Family;
  readonly ptr64: boolean;
  readonly processes: ProcessPlan[];
  /** Process indices in the order `!process 0 0` prints them (creation order). */
  readonly listOrder: number[];
  readonly chains: ChainPlan[];
  readonly userSession: number;
  /** Thread id of a counter (unique across all pids and tids, as in the real CID table). */
  cidOf(counter: number): number;
  /** Kernel object address of a counter (unique across all EPROCESS and ETHREAD). */
  addrOf(counter: number): Addr;
  /** High half of kernel pool addresses (`fffffa80` on Windows 7). */
  readonly poolHi: number;
  /** High half of paged pool (`fffff8a0` on Windows 7). */
  readonly pagedHi: number;
  /** High half of kernel stacks (`fffff880` on Windows 7). */
  readonly stackHi: number;
}

interface Draft {
  image: string;
  kinds: readonly ThreadKind[];
  role: Role;
  parentImage: string;
  zombie: boolean;
  wow64: boolean;
  session: number | null;
  parentIndex: number;
  parentPidOverride: number;
  reports: number;
  reportsAbsentPid: number;
  children: number[];
  evidence: EvidenceKind[];
  chain: number;
  rootStack: RootStack;
  key: number;
  ordinaryThreads: number;
}

const KERNEL_SESSIONLESS = new Set(['System', 'Registry', 'smss.exe']);
const SERVICE_PARENTS = new Set(['services.exe', 'svchost.exe', 'wininit.exe']);
const NOT_A_TARGET = new Set(['System', 'Registry', 'smss.exe', 'csrss.exe', 'wininit.exe', 'services.exe', 'lsass.exe', 'winlogon.exe', 'lsm.exe']);

function sortEvidence(kinds: Iterable<EvidenceKind>): EvidenceKind[] {
  const set = new Set(kinds);
  return EVIDENCE_KINDS.filter((k) => set.has(k));
}

/**
 * Builds the plan of a dump from a normalized spec. Deterministic in the spec.
 * @throws GeneratorError `INVALID_SPEC` when the dump would need more ids than the format allows.
 */
export function buildPlan(spec: NormalizedSpec): DumpPlan {
  const rng = new Prng(mixSeed(spec.seed, 0x504c414e));
  const family = familyOf(spec.os);
  const ptr64 = spec.arch === 'x64';
  const userSession = family === 'nt4' ? 0 : rng.pick([1, 1, 1, 2, 2, 3]);
  const drafts: Draft[] = [];
  const blank = (over: Partial<Draft>): Draft => ({
    image: '', kinds: ['single'], role: 'ordinary', parentImage: '', zombie: false, wow64: false, session: 0, parentIndex: -1,
    parentPidOverride: -1, reports: -1, reportsAbsentPid: -1, children: [], evidence: [], chain: -1, rootStack: 'present', key: 0, ordinaryThreads: 0, ...over,
  });

  // Ordinary processes: the skeleton, then a random pool.
  const sk = skeleton(family);
  const pl = pool(family);
  const lastByImage = new Map<string, number>();
  let csrssSeen = 0;
  for (let i = 0; i < spec.processes; i++) {
    const s = i < sk.length ? (sk[i] as (typeof sk)[number]) : rng.pick(pl);
    let session: number | null;
    if (KERNEL_SESSIONLESS.has(s.image)) session = null;
    else if (s.image === 'csrss.exe') session = csrssSeen++ === 0 ? 0 : userSession;
    else if (s.image === 'winlogon.exe' || s.image === 'dwm.exe' || s.image === 'explorer.exe') session = userSession;
    else if (SERVICE_PARENTS.has(s.parent) || s.image === 'wininit.exe') session = 0;
    else session = userSession;
    const parentIndex = s.parent === '' ? -1 : lastByImage.get(s.parent) ?? -1;
    drafts.push(blank({ image: s.image, kinds: s.kinds, parentImage: s.parent, session, parentIndex, zombie: i >= sk.length && rng.chance(0.02), key: i }));
    lastByImage.set(s.image, i);
  }
  const ordinaryCount = drafts.length;
  const explorer = lastByImage.get('explorer.exe') ?? -1;
  const svchosts = drafts.map((d, i) => (d.image === 'svchost.exe' && !d.zombie ? i : -1)).filter((i) => i >= 0);
  const werSvcHost = svchosts.length > 0 ? (svchosts[Math.min(1, svchosts.length - 1)] as number) : -1;

  // Absent pids come from counters after all processes and threads; count them first.
  const absentPids: number[] = []; // filled once the permutation exists; holds counter offsets
  let absentCount = 0;
  const takeAbsent = (): number => absentCount++;
  const launcherAbsent = takeAbsent(); // exited userinit / smss instances / WER launcher fallback
  const sessionSmssAbsent = takeAbsent();

  const pickEvidence = (chainEvidence: readonly EvidenceKind[] | 'mixed', reportedPresent: boolean): EvidenceKind[] => {
    let kinds: EvidenceKind[];
    if (chainEvidence === 'mixed') {
      kinds = EVIDENCE_KINDS.filter(() => rng.chance(0.6));
      if (kinds.length === 0) kinds = [rng.pick(EVIDENCE_KINDS)];
    } else kinds = [...chainEvidence];
    if (!reportedPresent) {
      kinds = kinds.filter((k) => k !== 'waiting');
      if (kinds.length === 0) kinds = [rng.pick(['command-line', 'parentage'] as const)];
    }
    return sortEvidence(kinds);
  };

  // Chains: a root (maybe absent) and a tree of reporters, level by level.
  const chainRoots: Array<{ index: number; absent: number; image: string | null; stack: RootStack; first: number[] }> = [];
  spec.chains.forEach((c, ci) => {
    const wow = spec.wow64;
    const image = rng.pick(wow || spec.arch === 'x86' ? ROOT_IMAGES_32 : ROOT_IMAGES_64);
    let rootIndex = -1;
    let absent = -1;
    if (c.rootPresent) {
      rootIndex = drafts.length;
      drafts.push(blank({ image, kinds: ['gui', 'queue', 'single'], role: 'root', wow64: wow, session: userSession, parentIndex: explorer, chain: ci, rootStack: c.rootStack, key: rng.float() * Math.max(1, ordinaryCount) }));
    } else absent = takeAbsent();
    const root = { index: rootIndex, absent, image: c.rootPresent ? image : null, stack: c.rootStack, first: [] as number[] };
    chainRoots.push(root);
    let level: number[] = [rootIndex];
    for (let l = 0; l < c.depth; l++) {
      const next: number[] = [];
      for (const parent of level) {
        for (let k = 0; k < (c.fanout[l] as number); k++) {
          const idx = drafts.length;
          const present = parent >= 0;
          const parentKey = present ? (drafts[parent] as Draft).key : rng.float() * Math.max(1, ordinaryCount);
          drafts.push(blank({
            image: 'WerFault.exe', kinds: ['queue'], role: 'reporter', wow64: wow, session: present ? (drafts[parent] as Draft).session : userSession,
            reports: parent, reportsAbsentPid: present ? -1 : absent, evidence: pickEvidence(c.evidence, present), chain: ci,
            key: parentKey + 1e-6 + rng.float() * Math.max(1, ordinaryCount - parentKey) * 0.3,
          }));
          if (present) (drafts[parent] as Draft).children.push(idx);
          if (l === 0) root.first.push(idx);
          next.push(idx);
        }
      }
      level = next;
    }
  });

  // Decoys: WerFault.exe reporting on ordinary processes.
  const targets = rng.shuffle(drafts.slice(0, ordinaryCount).map((d, i) => (!d.zombie && !NOT_A_TARGET.has(d.image) && i !== werSvcHost ? i : -1)).filter((i) => i >= 0));
  const decoyIdx: number[] = [];
  for (let d = 0; d < spec.werfaultDecoys; d++) {
    const target = d < targets.length ? (targets[d] as number) : -1;
    const absent = target < 0 ? takeAbsent() : -1;
    const idx = drafts.length;
    const t = target >= 0 ? (drafts[target] as Draft) : undefined;
    drafts.push(blank({
      image: 'WerFault.exe', kinds: ['queue'], role: 'decoy', session: t ? t.session : userSession, reports: target, reportsAbsentPid: absent,
      evidence: pickEvidence('mixed', target >= 0), key: (t ? t.key : rng.float() * ordinaryCount) + 1e-6 + rng.float() * 3,
    }));
    if (t) {
      t.children.push(idx);
      t.rootStack = rng.pick(['present', 'present', 'present', 'paged-out', 'absent'] as const);
    }
    decoyIdx.push(idx);
  }

  // Thread counts and counters.
  const [tMin, tMax] = spec.threadsPerProcess;
  let threadTotal = 0;
  for (const d of drafts) {
    if (d.zombie) d.ordinaryThreads = 0;
    else if (d.image === 'WerFault.exe') d.ordinaryThreads = d.children.length === 0 ? rng.int(1, 2) : rng.int(0, 1);
    else d.ordinaryThreads = rng.int(tMin, tMax);
    threadTotal += d.children.length + d.ordinaryThreads;
  }
  const total = drafts.length + threadTotal + absentCount;
  const bits = Math.min(24, Math.max(10, Math.ceil(Math.log2(total + 1)) + 2));
  if (total > 1 << 22) throw new GeneratorError('INVALID_SPEC', `dump too large: ${total} processes+threads (max ${1 << 22})`, { total });
  const nt4 = family === 'nt4';
  const poolHi = !ptr64 ? 0 : family === 'win7' ? 0xfffffa80 : rng.pick([0xffffab84, 0xffffe001, 0xffffc509, 0xffff8a07, 0xffffd58b]);
  const pagedHi = !ptr64 ? 0 : family === 'win7' ? 0xfffff8a0 : rng.pick([0xffffc081, 0xffff9901, 0xffffa282, 0xffffb80e]);
  const stackHi = !ptr64 ? 0 : family === 'win7' ? 0xfffff880 : rng.pick([0xffffc10f, 0xffffd001, 0xffff808d, 0xfffff687]);
  const { cidOf, addrOf } = idAllocators(spec.seed, bits, nt4, ptr64, poolHi);
  const absentBase = drafts.length + threadTotal;
  for (let a = 0; a < absentCount; a++) absentPids.push(cidOf(absentBase + a));

  // Assign threads, pids, and the printed fields.
  const pids = drafts.map((_, i) => (i === 0 && drafts[0]?.image === 'System' ? (nt4 ? 2 : 4) : cidOf(i)));
  let counter = drafts.length;
  const processes: ProcessPlan[] = drafts.map((d, i) => {
    const pr = new Prng(mixSeed(spec.seed, 0x50524f43, i));
    const pid = pids[i] as number;
    let parentPid: number;
    if (d.role === 'reporter' || d.role === 'decoy') {
      const reportedPid = d.reports >= 0 ? (pids[d.reports] as number) : (absentPids[d.reportsAbsentPid] as number);
      parentPid = d.evidence.includes('parentage') ? reportedPid : werSvcHost >= 0 ? (pids[werSvcHost] as number) : (absentPids[launcherAbsent] as number);
    } else if (i === 0 && d.image === 'System') parentPid = 0;
    else if (d.parentIndex >= 0) parentPid = pids[d.parentIndex] as number;
    else parentPid = absentPids[d.image === 'csrss.exe' || d.image === 'wininit.exe' || d.image === 'winlogon.exe' ? sessionSmssAbsent : launcherAbsent] as number;
    const isWer = d.image === 'WerFault.exe';
    const handles = d.zombie ? 0 : d.image === 'System' ? pr.int(1800, 3200) : isWer ? (d.children.length === 0 ? pr.int(50, 62) : pr.int(950, 990)) : Math.floor(Math.exp(pr.float() * Math.log(1500 / 30)) * 30);
    const peb = pebOf(family, ptr64, d.wow64, d.image, pr);
    const dirBase: Addr = nt4 ? { hi: 0, lo: (pr.int(0x10, 0x1ff) << 12) | 0x605 } : ptr64 ? { hi: pr.int(0, 7), lo: (pr.next() & 0xfffff000) | (family === 'win10' && pr.chance(0.3) ? 2 : 0) } : { hi: 0, lo: pr.next() & 0x7fffffe0 };
    const objectTable: Addr = ptr64 ? { hi: pagedHi, lo: pr.next() & 0xfffffff0 } : { hi: 0, lo: nt4 ? 0xe1000000 + (pr.next() & 0x00fffff8) : 0x8a000000 + (pr.next() & 0x0ffffff8) };
    const faults: FaultThread[] = d.children.map((child) => {
      const link = drafts[child] as Draft;
      const stack: RootStack = d.role === 'reporter' ? 'present' : d.rootStack;
      return { reporter: child, waiting: link.evidence.includes('waiting'), stack, codeOnStack: pr.chance(d.role === 'reporter' ? 0.5 : 0.2) };
    });
    const addr = addrOf(i);
    const firstThread = counter;
    const threadCount = faults.length + d.ordinaryThreads;
    counter += threadCount;
    const reportsPid = d.reports >= 0 ? (pids[d.reports] as number) : d.reportsAbsentPid >= 0 ? (absentPids[d.reportsAbsentPid] as number) : -1;
    return {
      index: i, pid, parentPid, image: d.image, module: moduleOf(d.image), role: d.role, session: d.session, wow64: d.wow64, zombie: d.zombie,
      addr, addrText: ptr(addr, ptr64), addrTick: ptrTick(addr, ptr64), cid: hexPad(pid, 4), parentCid: hexPad(parentPid, 4),
      peb, pebText: hexMin8(peb), dirBaseText: hexMin8(dirBase), objectTableText: d.zombie ? '00000000' : ptr(objectTable, ptr64), handleText: countField(handles), handles,
      kinds: d.kinds, threadCount, firstThread, faults, reportsPid, reportsIndex: d.reports, evidence: d.evidence, leaf: d.children.length === 0,
      sArg: pr.int(100, 9999), pss: d.role === 'decoy' && family === 'win10' && pr.chance(0.3), running: i === 0 && d.image === 'System',
    };
  });

  const listOrder = drafts.map((_, i) => i).sort((a, b) => (drafts[a] as Draft).key - (drafts[b] as Draft).key || a - b);

  // Chains of the answer: one per leaf reporter, leaves in depth-first order.
  const chains: ChainPlan[] = [];
  chainRoots.forEach((r) => {
    const rootPid = r.index >= 0 ? (pids[r.index] as number) : (absentPids[r.absent] as number);
    const stack = [...r.first].reverse();
    while (stack.length > 0) {
      const node = stack.pop() as number;
      const kids = (drafts[node] as Draft).children;
      if (kids.length > 0) {
        for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k] as number);
        continue;
      }
      const path: number[] = [];
      for (let n = node; n >= 0 && (drafts[n] as Draft).role === 'reporter'; n = (drafts[n] as Draft).reports) path.push(n);
      path.reverse();
      chains.push({ rootPid, rootImage: r.image, rootIndex: r.index, rootStack: r.stack, path, decoy: false });
    }
  });
  for (const idx of decoyIdx) {
    const d = drafts[idx] as Draft;
    const p = processes[idx] as ProcessPlan;
    chains.push({ rootPid: p.reportsPid, rootImage: d.reports >= 0 ? (drafts[d.reports] as Draft).image : null, rootIndex: d.reports, rootStack: d.reports >= 0 ? (drafts[d.reports] as Draft).rootStack : 'absent', path: [idx], decoy: true });
  }

  return { spec, family, ptr64, processes, listOrder, chains, userSession, cidOf, addrOf, poolHi, pagedHi, stackHi };
}

/**
 * Cid and kernel-address allocators: bijections over counters, so every pid, tid, EPROCESS and
 * ETHREAD is unique by construction. Built outside buildPlan so the closures keep nothing else alive.
 */
function idAllocators(seed: number, bits: number, nt4: boolean, ptr64: boolean, poolHi: number): { cidOf(c: number): number; addrOf(c: number): Addr } {
  const perm = new Permutation(bits, mixSeed(seed, 0x434944));
  const addrPerm = new Permutation(bits, mixSeed(seed, 0x41444452));
  const stride = ptr64 ? 2 ** (32 - bits) : 2 ** (30 - bits);
  const align = ptr64 ? 16 : 8;
  const x86Base = nt4 ? 0x80800000 : 0x84000000;
  return {
    cidOf: (c: number): number => (nt4 ? perm.map(c) + 0x10 : 4 * (perm.map(c) + 2)),
    addrOf: (c: number): Addr => {
      const jitter = (mixSeed(seed, c, 0x4a) % (stride / align)) * align;
      const off = addrPerm.map(c) * stride + jitter;
      return ptr64 ? { hi: poolHi, lo: off } : { hi: 0, lo: x86Base + off };
    },
  };
}

function pebOf(family: Family, ptr64: boolean, wow64: boolean, image: string, r: Prng): Addr {
  if (image === 'System' || image === 'Registry') return { hi: 0, lo: 0 };
  if (!ptr64) return { hi: 0, lo: 0x7ffd0000 + r.int(3, 0xf) * 0x1000 };
  if (family === 'win7') return wow64 ? { hi: 0, lo: 0x7efdf000 } : { hi: 0x7ff, lo: 0xfffd0000 + r.int(3, 0xf) * 0x1000 };
  if (wow64) return { hi: 0, lo: r.int(0x200, 0xfff) * 0x1000 };
  return { hi: r.int(0x10, 0xff), lo: r.next() & 0xfffff000 };
}
