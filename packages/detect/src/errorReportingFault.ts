import type { Frame } from '@dumpstream/transcript';
import { faultingFrameIndex } from './faultingFrame';
import { isWerFault, reportLinks, stackFrames, type EvidenceKind, type ProcessNode, type ReportLink, type ResolvedDump, type StackText } from '@dumpstream/graph';

export const ERROR_REPORTING_FAULT = 'error-reporting-fault';

export type Severity = 'medium' | 'high' | 'critical';

/** The original fault behind a chain: the first process that is not WerFault.exe. */
export interface ChainRoot {
  /** null when no evidence says what the outermost reporter reports on. */
  pid: number | null;
  /** null when the process is not in the dump, or printed without an image. */
  image: string | null;
  present: boolean;
  /** The frames of its faulting thread when the transcript has them; never invented. */
  exceptionStack: Frame[] | null;
  /**
   * Index in exceptionStack of the faulting frame, the first of the program's own code past the
   * exception dispatch (see faultingFrameIndex); null without a stack or when no frame qualifies.
   */
  faultingFrame: number | null;
  /** Why there is no exception stack, or what is odd about the root. */
  note: string | null;
}

/** One chain: root, then reporters from the root outward, one chain per leaf reporter. */
export interface WerChain {
  root: ChainRoot;
  /** reporters[0] reports on the root, reporters[1] on reporters[0], … */
  reporters: number[];
  length: number;
  /** Per link (same order as reporters): the kinds of evidence that support it. */
  evidence: EvidenceKind[][];
  /** Evidence that pointed elsewhere and was overruled. */
  conflicts: { reporterPid: number; kind: EvidenceKind; targetPid: number }[];
}

/** An Error Reporting Fault: WerFault.exe reporting on WerFault.exe. */
export interface ErrorReportingFault {
  pattern: typeof ERROR_REPORTING_FAULT;
  severity: Severity;
  summary: string;
  /** How many WerFault.exe processes the dump holds. */
  werFaultProcesses: number;
  chains: WerChain[];
}

// Frames of the exception path in user mode, as a crashing process waits for its reporter.
const EXCEPTION_FRAME = /KiUserExceptionDispatch|RtlDispatchException|UnhandledExceptionFilter|WerpReportFault|RtlRaiseException|KiDispatchException|RaiseException/;

/**
 * Severity grows with chain depth and with the number of WerFault.exe processes: a chain of two is
 * the pattern's least case; three or more, or ten WerFault.exe, is a storm in progress; five or
 * more, or a hundred, exhausts the machine.
 */
export function severityOf(depth: number, werFaults: number): Severity {
  if (depth >= 5 || werFaults >= 100) return 'critical';
  if (depth >= 3 || werFaults >= 10) return 'high';
  return 'medium';
}

/**
 * Finds WerFault.exe reporting on WerFault.exe. Returns null when no WerFault.exe reports on
 * another; otherwise every chain from its root to each leaf reporter. Pure.
 */
export function detectErrorReportingFault(dump: ResolvedDump, links: Map<number, ReportLink> = reportLinks(dump)): ErrorReportingFault | null {
  const byPid = new Map<number, ProcessNode>();
  for (const p of dump.processes) if (p.pid !== null && !byPid.has(p.pid)) byPid.set(p.pid, p);
  const werFaults = [...byPid.values()].filter((p) => isWerFault(p.image));
  const isWer = (pid: number): boolean => {
    const p = byPid.get(pid);
    return p !== undefined && isWerFault(p.image);
  };

  // A reporter is reported on when some WerFault.exe links to it.
  const reportedOn = new Set<number>();
  for (const l of links.values()) if (isWer(l.reporterPid) && isWer(l.targetPid)) reportedOn.add(l.targetPid);
  if (reportedOn.size === 0) return null;

  const leaves = werFaults.map((p) => p.pid!).filter((pid) => !reportedOn.has(pid));
  const chains: WerChain[] = [];
  const covered = new Set<number>();
  const walk = (leaf: number): void => {
    const path = [leaf];
    const onPath = new Set(path);
    let cur = leaf;
    let cycle = false;
    let target: number | null = null;
    for (;;) {
      const link = links.get(cur);
      if (!link) {
        target = null;
        break;
      }
      target = link.targetPid;
      if (!isWer(target)) break;
      if (onPath.has(target)) {
        cycle = true;
        break;
      }
      path.push(target);
      onPath.add(target);
      cur = target;
    }
    for (const pid of path) covered.add(pid);
    if (path.length < 2) return;
    const reporters = path.reverse();
    chains.push({
      root: rootOf(target, cycle, reporters[0], byPid, dump),
      reporters,
      length: reporters.length,
      evidence: reporters.map((r) => links.get(r)?.evidence ?? []),
      conflicts: reporters.flatMap((r) => (links.get(r)?.conflicts ?? []).map((c) => ({ reporterPid: r, ...c }))),
    });
  };
  for (const leaf of leaves.sort((a, b) => a - b)) walk(leaf);
  // Reporters caught in a cycle have no leaf; start from the smallest pid of each.
  for (const pid of [...reportedOn].sort((a, b) => a - b)) if (!covered.has(pid)) walk(pid);
  if (chains.length === 0) return null;

  const depth = Math.max(...chains.map((c) => c.length));
  const severity = severityOf(depth, werFaults.length);
  const groups = originalFaults(chains);
  const summary =
    `WerFault.exe reporting on WerFault.exe: ${chains.length} chain${chains.length === 1 ? '' : 's'}, ` +
    `deepest ${depth}, ${werFaults.length} WerFault.exe process${werFaults.length === 1 ? '' : 'es'} in the dump; ` +
    `original fault${groups.length === 1 ? '' : 's'}: ${groups
      .slice(0, 5)
      .map(describeRoot)
      .join(', ')}${groups.length > 5 ? `, and ${groups.length - 5} more` : ''}`;
  return { pattern: ERROR_REPORTING_FAULT, severity, summary, werFaultProcesses: werFaults.length, chains: groups.flatMap((g) => g.chains) };
}

/** The chains of one original fault, with the size they are ordered by. */
export interface OriginalFault<C extends ChainLike = WerChain> {
  /** `pid` of the root, or `unknown:<outermost reporter>` when no evidence names it. */
  key: string;
  root: C['root'];
  chains: C[];
  /** Distinct WerFault.exe in its chains. */
  werFaults: number;
  /** Its deepest chain's length. */
  depth: number;
}

/**
 * Chains grouped by original fault, biggest first: by WerFault.exe count, then depth, then pid.
 * Every rendering (summary, text, HTML, JSON chain order) takes this one order, so the fault a
 * reader sees first, and the ones a capped list leaves out, are the same everywhere.
 */
export function originalFaults<C extends ChainLike>(chains: readonly C[]): OriginalFault<C>[] {
  const byKey = new Map<string, { chains: C[]; reporters: Set<number> }>();
  for (const c of chains) {
    const key = c.root.pid === null ? `unknown:${c.reporters[0]}` : String(c.root.pid);
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { chains: [], reporters: new Set() }));
    g.chains.push(c);
    for (const r of c.reporters) g.reporters.add(r);
  }
  const out: OriginalFault<C>[] = [];
  for (const [key, g] of byKey) {
    out.push({ key, root: g.chains[0].root, chains: g.chains, werFaults: g.reporters.size, depth: Math.max(...g.chains.map((c) => c.length)) });
  }
  return out.sort((a, b) => b.werFaults - a.werFaults || b.depth - a.depth || (a.root.pid ?? Infinity) - (b.root.pid ?? Infinity) || (a.key < b.key ? -1 : 1));
}

/** What originalFaults reads of a chain: a detector's, or a report's (whose frames are plain data). */
export interface ChainLike {
  root: { pid: number | null; image: string | null; present: boolean };
  reporters: number[];
  length: number;
}

function describeRoot(g: OriginalFault): string {
  const r = g.root;
  const name = r.pid === null ? 'unknown' : `${r.image ?? 'pid'} ${r.pid}`;
  return `${name} (${g.werFaults} WerFault.exe${r.pid !== null && !r.present ? ', not in the dump' : ''})`;
}

function rootOf(target: number | null, cycle: boolean, outermost: number, byPid: Map<number, ProcessNode>, dump: ResolvedDump): ChainRoot {
  if (target === null) {
    return { pid: null, image: null, present: false, exceptionStack: null, faultingFrame: null, note: `nothing in the transcript says what WerFault.exe ${outermost} reports on` };
  }
  const p = byPid.get(target);
  if (cycle) {
    return { pid: target, image: p?.image ?? null, present: p !== undefined, exceptionStack: null, faultingFrame: null, note: `the evidence forms a cycle through WerFault.exe ${target}: the original fault is not in the transcript` };
  }
  if (!p) {
    return { pid: target, image: null, present: false, exceptionStack: null, faultingFrame: null, note: `process ${target} is not in the dump: it has exited or was not captured, so its exception stack is not available` };
  }
  const found = exceptionStackOf(p, dump);
  return { pid: target, image: p.image, present: true, exceptionStack: found.frames, faultingFrame: found.frames ? faultingFrameIndex(found.frames) : null, note: found.note };
}

/** The frames of the process's faulting thread, or a note saying why there are none. */
export function exceptionStackOf(p: ProcessNode, dump: ResolvedDump): { frames: Frame[] | null; note: string | null } {
  const candidates: StackText[] = [];
  for (const t of p.threads) if (t.stack !== null) candidates.push(t.stack);
  for (const s of dump.stacks) if (s.pid !== null && s.pid === p.pid) candidates.push(s.stack);
  // Frames are built from text here, for the root's stacks only.
  for (const stack of candidates) {
    if (stack.frameCount === 0) continue;
    const frames = stackFrames(dump, stack);
    if (frames.some((f) => EXCEPTION_FRAME.test(f.callSite))) return { frames, note: null };
  }
  if (p.threads.length > 0 && p.threads.every((t) => t.stackNotResident)) {
    return { frames: null, note: 'its stacks were paged out (Kernel stack not resident), so the exception stack is not in the dump' };
  }
  if (candidates.every((s) => s.frameCount === 0)) return { frames: null, note: 'the transcript prints no stack of this process' };
  return { frames: null, note: 'no exception frames in the stacks the transcript prints for this process' };
}
