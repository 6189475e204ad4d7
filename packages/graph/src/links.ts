import type { ProcessNode, ResolvedDump } from './graph';

/** The kinds of evidence that a reporter reports on a process, strongest first. */
export const EVIDENCE_KINDS = ['command-line', 'waiting', 'parentage'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** A WerFault.exe reporter and the process it reports on. */
export interface ReportLink {
  reporterPid: number;
  targetPid: number;
  /** The kinds that point at `targetPid`, strongest first. */
  evidence: EvidenceKind[];
  /** Kinds that point elsewhere: overruled by stronger evidence, and worth saying. */
  conflicts: { kind: EvidenceKind; targetPid: number }[];
}

/** Case-insensitive match on the reporter's image name (`WerFault.exe`, `WERFAULT.EXE`). */
export function isWerFault(image: string | null): boolean {
  return image !== null && /(^|[\\/])werfault\.exe$/i.test(image.trim());
}

/**
 * The pid a WerFault.exe command line reports on: `-p <decimal pid>` (`-u -p 189240 -s 3888`,
 * `-pss -s 420 -p 5952 -ip 5952`); null for kernel reports (`-k`) and unknown switches.
 */
export function reportedPidFromCommandLine(commandLine: string): number | null {
  const t = commandLine.split(/\s+/);
  for (let i = 0; i < t.length - 1; i++) {
    const sw = t[i].toLowerCase();
    if (sw === '-p' || sw === '/p') {
      const v = t[i + 1];
      if (/^\d{1,10}$/.test(v)) return Number(v);
      if (/^0x[0-9a-f]{1,8}$/i.test(v)) return parseInt(v, 16);
      return null;
    }
  }
  return null;
}

/**
 * The WER service's host: a svchost.exe running WerSvc (`svchost.exe -k WerSvcGroup`), or one whose
 * command line the transcript does not print. The service starts reporters for queued and
 * snapshot reports, so it is their parent whatever they report on: its parentage is no evidence
 * against a reporter's command line, and is not listed as a conflict. A svchost.exe whose command
 * line names another service group is an ordinary process and its parentage counts.
 */
export function isWerServiceHost(p: ProcessNode | undefined): boolean {
  if (p === undefined || p.image === null || !/(^|[\\/])svchost\.exe$/i.test(p.image.trim())) return false;
  return p.commandLine === null || /WerSvc/i.test(p.commandLine);
}

/**
 * Links every WerFault.exe in the dump to the process it reports on, from three kinds of evidence:
 * its command line's `-p`, a thread of another process waiting on its ProcessObject, and its
 * ParentCid. Where they disagree the command line wins, then waiting, then parentage.
 */
export function reportLinks(dump: ResolvedDump): Map<number, ReportLink> {
  const byAddress = new Map<string, ProcessNode>();
  for (const p of dump.processes) if (p.address !== null && !byAddress.has(p.address)) byAddress.set(p.address, p);
  // waitedOnBy: EPROCESS address → pids of processes with a thread waiting on it.
  const waitedOnBy = new Map<string, number[]>();
  for (const p of dump.processes) {
    if (p.pid === null) continue;
    for (const t of p.threads) {
      for (const w of t.waitsOn) {
        if (w.type !== 'ProcessObject' || w.address === p.address) continue;
        const list = waitedOnBy.get(w.address) ?? [];
        if (!list.includes(p.pid)) list.push(p.pid);
        waitedOnBy.set(w.address, list);
      }
    }
  }

  const byPid = new Map<number, ProcessNode>();
  for (const p of dump.processes) if (p.pid !== null && !byPid.has(p.pid)) byPid.set(p.pid, p);

  const links = new Map<number, ReportLink>();
  for (const r of dump.processes) {
    if (r.pid === null || !isWerFault(r.image) || links.has(r.pid)) continue;
    const claims: { kind: EvidenceKind; targetPid: number }[] = [];
    if (r.commandLine !== null) {
      const pid = reportedPidFromCommandLine(r.commandLine);
      if (pid !== null && pid !== r.pid) claims.push({ kind: 'command-line', targetPid: pid });
    }
    if (r.address !== null) {
      for (const pid of waitedOnBy.get(r.address) ?? []) if (pid !== r.pid) claims.push({ kind: 'waiting', targetPid: pid });
    }
    if (r.parentPid !== null && r.parentPid !== 0 && r.parentPid !== r.pid) claims.push({ kind: 'parentage', targetPid: r.parentPid });
    if (claims.length === 0) continue;
    const chosen = claims[0].targetPid; // claims are pushed strongest first
    const evidence: EvidenceKind[] = [];
    const conflicts: ReportLink['conflicts'] = [];
    for (const c of claims) {
      if (c.targetPid === chosen) {
        if (!evidence.includes(c.kind)) evidence.push(c.kind);
      } else if (!(c.kind === 'parentage' && isWerServiceHost(byPid.get(c.targetPid)))) conflicts.push(c);
    }
    links.set(r.pid, { reporterPid: r.pid, targetPid: chosen, evidence, conflicts });
  }
  return links;
}
