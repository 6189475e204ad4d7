import type { DumpPlan } from './plan';
import type { EvidenceKind } from './spec';

/** The process a chain ends at: the first process that is not WerFault.exe. */
export interface ChainRoot {
  /** Its pid (decimal). */
  pid: number;
  /** Its image, or `null` when it is not in the dump (known only from `-p` or a ParentCid). */
  image: string | null;
  /** Whether it is in the process list. */
  present: boolean;
  /** Whether its exception stack (KiUserExceptionDispatcher … WerpReportFaultInternal) is printed. */
  hasExceptionStack: boolean;
}

/** One chain from a root to a leaf reporter. */
export interface ChainAnswer {
  root: ChainRoot;
  /** WerFault.exe pids from the root outward: reporters[0] reports on the root, reporters[1] on reporters[0], … */
  reporters: number[];
  /** Per link (same length as `reporters`): the evidence kinds printed for it, sorted. */
  evidence: EvidenceKind[][];
  /** A WerFault.exe reports on a WerFault.exe here (reporters.length ≥ 2): an Error Reporting Fault. */
  finding: boolean;
  /** Planted as a decoy (a lone WerFault.exe on an ordinary process). */
  decoy: boolean;
}

/** What a correct analysis of the generated transcript must find. */
export interface KnownAnswer {
  /** Distinct pids in the process list. */
  processes: number;
  /** Distinct WerFault.exe processes in the process list. */
  werFaultProcesses: number;
  /** One chain per leaf reporter: planted chains first (in spec order), then decoys. */
  chains: ChainAnswer[];
  /** Whether any chain is a finding. */
  findings: boolean;
}

/** Computes the known answer from the plan alone (no text is produced). */
export function answerOf(plan: DumpPlan): KnownAnswer {
  const chains: ChainAnswer[] = plan.chains.map((c) => {
    const present = c.rootIndex >= 0;
    const rootProc = present ? plan.processes[c.rootIndex] : undefined;
    // A `listing` transcript prints no stack at all.
    const hasExceptionStack = plan.spec.style !== 'listing' && rootProc !== undefined && rootProc.faults.some((f) => f.stack === 'present');
    const reporters = c.path.map((i) => plan.processes[i]!.pid);
    return {
      root: { pid: c.rootPid, image: c.rootImage, present, hasExceptionStack },
      reporters,
      evidence: c.path.map((i) => [...plan.processes[i]!.evidence]),
      finding: reporters.length >= 2,
      decoy: c.decoy,
    };
  });
  return {
    processes: plan.processes.length,
    werFaultProcesses: plan.processes.reduce((n, p) => n + (p.image === 'WerFault.exe' ? 1 : 0), 0),
    chains,
    findings: chains.some((c) => c.finding),
  };
}
