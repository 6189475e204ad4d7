import type { Report, ReportFrame } from '@dumpstream/report';

/** Facts read off a real transcript by eye (`*.expect.json`, format in test/fixtures/corpus/README.md). */
export interface Expectations {
  processes?: { pid: number; parentPid?: number; image?: string; address?: string }[];
  threads?: { pid: number; tid: number; address?: string; state?: string; waitReason?: string; waitsOn?: { address: string; type: string }[] }[];
  stacks?: { first: string; last: string; frames: number }[];
  commandLines?: { contains: string }[];
  system?: Record<string, string | number>;
}

/** Every stack of a report: those printed in thread blocks and those printed on their own. */
export function allStacks(report: Report): ReportFrame[][] {
  const out: ReportFrame[][] = [];
  for (const p of report.processes) for (const t of p.threads) if (t.frames.length > 0) out.push(t.frames);
  for (const s of report.stacks) out.push(s.frames);
  return out;
}

/** Lists each expected fact the report does not show; empty when all are found. */
export function missingFacts(report: Report, expect: Expectations): string[] {
  const missing: string[] = [];
  for (const e of expect.processes ?? []) {
    const p = report.processes.find((x) => x.pid === e.pid && (e.address === undefined || x.address === e.address));
    if (!p) {
      missing.push(`process ${e.pid}${e.address ? ` at ${e.address}` : ''}`);
      continue;
    }
    if (e.parentPid !== undefined && p.parentPid !== e.parentPid) missing.push(`process ${e.pid} parentPid ${e.parentPid} (got ${p.parentPid})`);
    if (e.image !== undefined && p.image !== e.image) missing.push(`process ${e.pid} image ${e.image} (got ${p.image})`);
  }
  for (const e of expect.threads ?? []) {
    const candidates = report.processes.filter((p) => p.pid === e.pid).flatMap((p) => p.threads);
    const t = candidates.find((x) => x.tid === e.tid);
    if (!t) {
      missing.push(`thread ${e.pid}.${e.tid}`);
      continue;
    }
    if (e.address !== undefined && t.address !== e.address) missing.push(`thread ${e.pid}.${e.tid} address ${e.address} (got ${t.address})`);
    if (e.state !== undefined && t.state !== e.state) missing.push(`thread ${e.pid}.${e.tid} state ${e.state} (got ${t.state})`);
    if (e.waitReason !== undefined && t.waitReason !== e.waitReason) missing.push(`thread ${e.pid}.${e.tid} waitReason ${e.waitReason} (got ${t.waitReason})`);
    for (const w of e.waitsOn ?? []) {
      if (!t.waitsOn.some((x) => x.address === w.address && x.type === w.type)) missing.push(`thread ${e.pid}.${e.tid} waits on ${w.type} ${w.address}`);
    }
  }
  const stacks = allStacks(report);
  for (const e of expect.stacks ?? []) {
    const ok = stacks.some((s) => s.length === e.frames && s[0].callSite === e.first && s[s.length - 1].callSite === e.last);
    if (!ok) {
      const near = stacks.find((s) => s[0]?.callSite === e.first);
      missing.push(`stack ${e.first} … ${e.last} (${e.frames} frames)${near ? `; nearest has ${near.length} frames ending ${near[near.length - 1].callSite}` : ''}`);
    }
  }
  for (const e of expect.commandLines ?? []) {
    if (!report.processes.some((p) => p.commandLine?.includes(e.contains))) missing.push(`command line containing ${e.contains}`);
  }
  for (const [k, v] of Object.entries(expect.system ?? {})) {
    const got = (report.system as Record<string, unknown>)[k];
    if (got !== v) missing.push(`system.${k} = ${JSON.stringify(v)} (got ${JSON.stringify(got)})`);
  }
  return missing;
}
