import { detectErrorReportingFault, originalFaults } from '@dumpstream/detect';
import { DumpGraph, type DumpGraphOptions, type ResolvedDump, type StackText } from '@dumpstream/graph';
import { LARGE_MESSAGE_BYTES } from '@dumpstream/kafka';
import type { DumpStore, ManifestRecord, ReportLease } from '@dumpstream/redis';
import { buildReport, reportFrameTexts, type Report, type ReportFrameTexts } from '@dumpstream/report';
import { decodeFacts, type Alert } from '@dumpstream/schemas';
import type { FactsCache } from './factsCache';

/** What a finished upload becomes: its report, and an alert when there is a finding. */
export interface Outcome {
  report: Report;
  alert: Alert | null;
  manifest: ManifestRecord | null;
  /** Segments whose facts were in Redis. */
  segmentsMerged: number;
  /**
   * The report's frames as text, to encode with it (encodeReport): the report itself is built
   * without frame records. Null when the report carries no frames (too large: see trimReport).
   */
  frameTexts: ReportFrameTexts | null;
  /** Frames the report has as text (counted as left out when it is trimmed). */
  frames: number;
  /** Segments' facts read from this worker's memory (FactsCache) and from Redis. */
  factsFrom: { memory: number; redis: number };
}

/**
 * The merged segments' facts in segment order: from `cache` where it holds them, the rest from
 * Redis, a few at a time (see DumpStore.factsInOrder).
 */
async function* mergedFacts(store: DumpStore, uploadId: string, seqs: number[], cache: FactsCache | null, from: Outcome['factsFrom']): AsyncGenerator<Buffer> {
  for (let i = 0; i < seqs.length; ) {
    const held = cache?.get(uploadId, seqs[i]);
    if (held !== undefined) {
      from.memory++;
      yield held;
      i++;
      continue;
    }
    let j = i + 1;
    while (j < seqs.length && j - i < 8 && !(cache?.has(uploadId, seqs[j]) ?? false)) j++;
    for await (const { blob } of store.factsInOrder(uploadId, seqs.slice(i, j))) {
      from.redis++;
      yield blob;
    }
    i = j;
  }
}

/**
 * Builds the report of an upload from the facts merged in Redis: the same fold, detection and
 * report as `dumpstream analyze`, so both give the same report for the same bytes.
 * The report is complete when the manifest and every segment are in, else `incompleteReason`
 * says what is missing: `expectWhole` says the caller's merge saw it complete (then what is
 * missing was lost from Redis meanwhile), else the upload timed out.
 */
export async function buildOutcome(store: DumpStore, lease: ReportLease, expectWhole: boolean, options: DumpGraphOptions = {}, cache: FactsCache | null = null): Promise<Outcome> {
  const manifest = await store.manifest(lease.uploadId);
  const seqs = await store.segmentsMerged(lease.uploadId);
  const merged = seqs.length;
  const graph = new DumpGraph(options);
  const factsFrom = { memory: 0, redis: 0 };
  // In segment order, so that the facts past the dump's limit are never fetched nor held.
  for await (const blob of mergedFacts(store, lease.uploadId, seqs, cache, factsFrom)) {
    graph.merge(decodeFacts(blob));
    if (graph.cutAt !== null) break;
  }
  const dump = graph.resolve();
  const finding = detectErrorReportingFault(dump);
  const whole = manifest !== null && manifest.status === 'complete' && merged >= manifest.segments;
  let incompleteReason: string | null = null;
  if (!whole) {
    const s = (n: number) => `${n} segment${n === 1 ? '' : 's'}`;
    incompleteReason = expectWhole
      ? `the dump's partial graph was lost from Redis (flushed or evicted) before it was reported; ${manifest ? `${merged} of ${manifest.segments}` : s(merged)} left`
      : manifest
        ? `only ${merged} of ${manifest.segments} segments arrived before the timeout`
        : `the end of the upload never arrived (ingest stopped or lost it); ${s(merged)} arrived`;
  }
  // Frames travel as their text (see encodeReport), and only when the report can carry them.
  const fits = reportFramesChars(dump) <= LARGE_MESSAGE_BYTES;
  const frameTexts = fits ? reportFrameTexts(dump) : null;
  const frameCount = reportFrameCount(dump);
  const built = buildReport(
    {
      source: manifest?.source ?? (expectWhole ? '(unknown: lost from Redis before the report)' : '(unknown: the upload never finished)'),
    // Without a manifest the content hash is unknown; the upload id stands in for it.
      dumpId: manifest?.dumpId ?? lease.uploadId,
      bytes: manifest?.bytes ?? 0,
      dump,
      findings: finding ? [finding] : [],
      host: manifest?.host ?? null,
      incompleteReason,
    },
    // Records only for frames that came built (facts v1), which have no text to send.
    { frames: fits && frameTexts === null },
  );
  const report = fits ? built : trimReport(built, 'frames', frameCount);
  return { report, alert: finding ? alertOf(report) : null, manifest, segmentsMerged: merged, frameTexts, frames: frameTexts !== null ? frameCount : 0, factsFrom };
}

/** The stacks a report lists: each thread's, and those printed outside process blocks. */
function reportStacks(dump: ResolvedDump): StackText[] {
  const out: StackText[] = [];
  for (const p of dump.processes) for (const t of p.threads) if (t.stack !== null) out.push(t.stack);
  for (const s of dump.stacks) out.push(s.stack);
  return out;
}

/** Frames a report of the dump lists. */
function reportFrameCount(dump: ResolvedDump): number {
  return reportStacks(dump).reduce((n, s) => n + s.frameCount, 0);
}

/** The length of a report's frames' text: about the bytes they take on the wire, as text. */
function reportFramesChars(dump: ResolvedDump): number {
  let chars = 0;
  for (const s of reportStacks(dump)) for (const part of s.parts) chars += part.textRef?.length ?? part.text.length;
  return chars;
}

/**
 * The images of the original faults behind a report's WerFault.exe chains: each root process once
 * (many chains share a root when reporters branch), null where the root's image is not known.
 */
export function faultRootsOf(report: Report): (string | null)[] {
  const roots = new Map<string, string | null>();
  for (const f of report.findings) for (const c of f.chains) roots.set(`${c.root.pid ?? '?'}:${c.root.image ?? '?'}`, c.root.image);
  return [...roots.values()];
}

/** The alert of a report with a finding. */
export function alertOf(report: Report): Alert | null {
  const f = report.findings[0];
  if (!f) return null;
  // Distinct original faults, in the order every rendering uses.
  const roots = originalFaults(f.chains).map((g) => ({ pid: g.root.pid, image: g.root.image, present: g.root.present, werFaults: g.werFaults, deepestChain: g.depth }));
  return {
    dumpId: report.dumpId,
    source: report.source,
    host: report.host,
    pattern: f.pattern,
    severity: f.severity,
    summary: f.summary,
    werFaultProcesses: f.werFaultProcesses,
    deepestChain: Math.max(0, ...f.chains.map((c) => c.length)),
    chainCount: f.chains.length,
    rootImages: roots.map((r) => (r.pid === null ? null : r.present ? r.image : `pid ${r.pid}, not in the dump`)),
    createdAt: Date.now(),
    roots,
    signature: f.signature ?? null,
  };
}

/** Chains a findings-only report keeps per finding (a storm's chains are one per leaf reporter). */
export const MAX_TRIMMED_CHAINS = 10_000;

/**
 * A report too large for the reports topic, made to fit. `frames`: the frames of every thread and
 * stack are dropped (the findings keep their roots' exception stacks). `findings`, for when that is
 * still too large (a dump of millions of processes): only the processes the findings name (roots
 * and reporters) are kept, without stacks, and at most MAX_TRIMMED_CHAINS chains per finding.
 * Either way a `report-trimmed` warning says what was left out. `framesNotBuilt`: frames the
 * report was built without (counted as left out).
 */
export function trimReport(report: Report, level: 'frames' | 'findings' = 'frames', framesNotBuilt = 0): Report {
  const withoutFrames = (p: Report['processes'][number]) => ({ ...p, threads: p.threads.map((t) => ({ ...t, frames: [] })) });
  const dropped =
    framesNotBuilt + report.processes.reduce((n, p) => n + p.threads.reduce((m, t) => m + t.frames.length, 0), 0) + report.stacks.reduce((n, s) => n + s.frames.length, 0);
  const note = (text: string) => [...report.warnings, { line: 0, kind: 'report-trimmed' as never, text: `${text} (dumpstream analyze gives them all)` }];
  if (level === 'frames') {
    return {
      ...report,
      processes: report.processes.map(withoutFrames),
      stacks: report.stacks.map((s) => ({ ...s, frames: [] })),
      warnings: note(`the report was too large for the reports topic: ${dropped} frames left out`),
    };
  }
  const named = new Set<number>();
  const findings = report.findings.map((f) => {
    const chains = f.chains.slice(0, MAX_TRIMMED_CHAINS);
    for (const c of chains) {
      if (c.root.pid !== null) named.add(c.root.pid);
      for (const r of c.reporters) named.add(r);
    }
    return { ...f, chains };
  });
  const chainsLeft = report.findings.reduce((n, f) => n + Math.max(0, f.chains.length - MAX_TRIMMED_CHAINS), 0);
  const many = (n: number, one: string, more = `${one}s`) => `${n} ${n === 1 ? one : more}`;
  const processes = report.processes.filter((p) => p.pid !== null && named.has(p.pid)).map(withoutFrames);
  return {
    ...report,
    processes,
    stacks: [],
    findings,
    warnings: note(
      `the report was too large for the reports topic even without frames: only the ${many(processes.length, 'process', 'processes')} its findings name are listed; ${many(report.processes.length - processes.length, 'process', 'processes')}, ${many(report.stacks.length, 'stack')}, ${many(dropped, 'frame')}${chainsLeft > 0 ? ` and ${many(chainsLeft, 'chain')}` : ''} left out`,
    ),
  };
}
