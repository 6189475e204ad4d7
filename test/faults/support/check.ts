/**
 * The invariants every fault scenario checks, per dump, and the figures it records:
 *
 * - exactly one report per dump submitted (by its dumpId; or, when the dump's end was lost with
 *   Redis, by its uploadId and marked incomplete);
 * - a complete report equals what `analyze` gives for the same bytes (same segment size; only
 *   `host`, which the way in adds, may differ);
 * - exactly one alert for a report with a finding, none otherwise;
 * - nothing in the dead-letter topic that should not be there;
 * - every upload that left segments behind without a manifest (ingest died midway) is reported
 *   incomplete exactly once; an upload ingest marked aborted is never reported.
 */
import { promises as fs, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeTranscript } from '@dumpstream/cli';
import type { Report } from '@dumpstream/report';
import type { DeadLetterInfo } from '@dumpstream/schemas';
import type { Seen } from './observe';
import { HOST, SEGMENT_LINES, sleep, type FaultRun } from './run';

export interface CheckOptions {
  /** Reports marked incomplete are accepted (the scenario destroys data on purpose). */
  incompleteAllowed?: boolean;
  /** Dead letters the scenario produced on purpose. */
  expectedDeadLetter?: (d: DeadLetterInfo & { key: string | null }) => boolean;
  /** How long to keep watching after the last report, for late duplicates (default 8 s). */
  settleMs?: number;
  /** How long to wait for the reports of orphaned uploads (default 3 × DETECT_INCOMPLETE_AFTER). */
  orphanWaitMs?: number;
  /** dumpIds of reports the scenario made outside the fleet (checked by the scenario itself), once each. */
  extraReports?: Set<string>;
}

export interface Figures {
  scenario: string;
  fleet: number;
  megabytes: number;
  /** Uploads sent, retries included. */
  uploads: number;
  failedUploads: number;
  reports: number;
  complete: number;
  equalToAnalyze: number;
  incomplete: number;
  duplicates: number;
  losses: number;
  mismatches: number;
  alerts: number;
  alertProblems: number;
  deadLetters: number;
  unexpectedDeadLetters: number;
  /** Uploads that left segments but no manifest (ingest died midway), and those reported incomplete. */
  orphanUploads: number;
  orphansReported: number;
  unexpectedReports: number;
  faults: { what: string; atS: number; lastedS: number; recoveryS: number | null }[];
  /** Longest time without a new report between the first and the last. */
  longestStallS: number;
  /** From the end of the last fault to the last report. */
  drainS: number | null;
  durationS: number;
  restarts: Record<string, number>;
  peakRssMB: Record<string, number>;
  ranAt: string;
}

export interface Verdict {
  problems: string[];
  figures: Figures;
}

async function embedded(file: string, name: string): Promise<Report> {
  return analyzeTranscript(name, (async function* () {
    yield await fs.readFile(file);
  })(), { segmenter: { maxLines: SEGMENT_LINES } });
}

const round = (n: number): number => Math.round(n * 10) / 10;

/** Which segments of an upload never reached `segments` or `facts` (when the run watched them). */
function whereLost(obs: FaultRun['observer'], uploadId: string): string {
  const m = obs.manifests.get(uploadId);
  const seen = obs.segmentSeqs.get(uploadId);
  if (!m || !seen) return '';
  const facts = obs.factSeqs.get(uploadId) ?? new Set<number>();
  const all = Array.from({ length: m.segments }, (_, i) => i);
  return ` [upload ${uploadId}: missing on segments ${JSON.stringify(all.filter((i) => !seen.has(i)))}, on facts ${JSON.stringify(all.filter((i) => !facts.has(i)))}]`;
}

/** Waits for stragglers, then checks every invariant; returns the problems found and the figures. */
export async function checkRun(run: FaultRun, options: CheckOptions = {}): Promise<Verdict> {
  const obs = run.observer;
  const problems: string[] = [];
  const incompleteAfterMs = (run.options.incompleteAfterS ?? 60) * 1000;

  // Uploads that failed midway may have left segments: those without a manifest must be reported incomplete.
  const okUploads = new Set(run.submitted.filter((s) => s.result.ok).map((s) => s.result.uploadId!));
  const orphanIds = (): string[] => {
    const ids = new Set<string>([...run.submitted.flatMap((s) => s.failedUploads), ...obs.segmentSeqs.keys()]);
    return [...ids].filter((u) => !okUploads.has(u) && obs.segmentSeqs.has(u) && obs.manifests.get(u)?.status !== 'aborted' && obs.manifests.get(u)?.status !== 'complete');
  };
  if (run.options.watchUploads) {
    await sleep(2000); // the inputs observer catches up
    const wait = options.orphanWaitMs ?? 3 * incompleteAfterMs;
    const until = Date.now() + wait;
    while (Date.now() < until && orphanIds().some((u) => !obs.reports.has(u))) await sleep(500);
  }
  await sleep(options.settleMs ?? 8000);

  const accounted = new Set<string>();
  let complete = 0;
  let equal = 0;
  let incomplete = 0;
  let duplicates = 0;
  let losses = 0;
  let mismatches = 0;
  let alertProblems = 0;
  const checkAlerts = (key: string, report: Report, what: string) => {
    const alerts = obs.alerts.get(key) ?? [];
    const want = report.findings.length > 0 ? 1 : 0;
    if (alerts.length !== want) {
      alertProblems++;
      problems.push(`${what}: ${alerts.length} alerts, expected ${want}`);
    }
  };

  for (const s of run.submitted) {
    const name = s.file.name;
    if (!s.result.ok) {
      losses++;
      problems.push(`${name}: never accepted after ${s.attempts} attempts: ${s.result.error}`);
      continue;
    }
    const byUpload = s.result.uploadId ? (obs.reports.get(s.result.uploadId) ?? []) : [];
    const got: Seen<Report>[] = [...(obs.reports.get(s.file.dumpId) ?? []), ...byUpload];
    accounted.add(s.file.dumpId);
    if (s.result.uploadId) accounted.add(s.result.uploadId);
    if (got.length === 0) {
      losses++;
      problems.push(`${name}: no report (dumpId ${s.file.dumpId.slice(0, 12)}…, upload ${s.result.uploadId})`);
      continue;
    }
    if (got.length > 1) {
      duplicates += got.length - 1;
      problems.push(`${name}: ${got.length} reports (${got.map((g) => `${g.value.status}@${g.partition}/${g.offset}`).join(', ')})`);
    }
    const r = got[0].value;
    if (r.status === 'incomplete') {
      incomplete++;
      if (!options.incompleteAllowed) problems.push(`${name}: reported incomplete: ${r.incompleteReason}${s.result.uploadId ? whereLost(obs, s.result.uploadId) : ''}`);
      checkAlerts(r.dumpId, r, name);
      continue;
    }
    complete++;
    const want = await embedded(s.file.file, name);
    if (r.host !== HOST) problems.push(`${name}: host ${JSON.stringify(r.host)}`);
    const same = JSON.stringify({ ...r, host: null }) === JSON.stringify(want) || isDeepEqual({ ...r, host: null }, want);
    if (same) equal++;
    else {
      mismatches++;
      problems.push(`${name}: report differs from analyze (${diffSummary({ ...r, host: null }, want)})`);
    }
    checkAlerts(r.dumpId, r, name);
  }

  // Orphaned uploads: reported incomplete once each, by uploadId.
  const orphans = run.options.watchUploads ? orphanIds() : [];
  let orphansReported = 0;
  for (const u of orphans) {
    accounted.add(u);
    const got = obs.reports.get(u) ?? [];
    if (got.length === 0) {
      losses++;
      problems.push(`upload ${u} left ${obs.segmentSeqs.get(u)?.size} segments and no manifest, and was never reported incomplete`);
    } else {
      orphansReported++;
      if (got.length > 1) {
        duplicates += got.length - 1;
        problems.push(`upload ${u}: ${got.length} incomplete reports`);
      }
      if (got[0].value.status !== 'incomplete') problems.push(`upload ${u}: reported ${got[0].value.status}, expected incomplete`);
      checkAlerts(u, got[0].value, `upload ${u}`);
    }
  }
  // Aborted uploads are dropped, never reported.
  for (const [u, m] of obs.manifests) {
    if (m.status === 'aborted' && obs.reports.has(u)) problems.push(`upload ${u} was aborted by ingest but reported`);
  }
  let unexpectedReports = 0;
  for (const [key, got] of obs.reports) {
    if (options.extraReports?.has(key)) {
      if (got.length > 1) {
        duplicates += got.length - 1;
        problems.push(`${key.slice(0, 16)}… (outside the fleet): ${got.length} reports`);
      }
      continue;
    }
    if (accounted.has(key)) continue;
    // Identical bytes under another upload count once, with the dump (checked above).
    unexpectedReports += got.length;
    problems.push(`unexpected report ${key.slice(0, 16)}… (${got[0].value.status}, source ${got[0].value.source}, ${got[0].value.incompleteReason ?? ''})`);
  }
  for (const key of obs.alerts.keys()) if (!accounted.has(key) && !options.extraReports?.has(key)) problems.push(`unexpected alert ${key.slice(0, 16)}…`);

  const unexpectedDeadLetters = obs.deadLetters.filter((d) => !options.expectedDeadLetter?.(d.value));
  for (const d of unexpectedDeadLetters) problems.push(`dead letter from ${d.value.service} (${d.value.sourceTopic}@${d.value.sourcePartition}/${d.value.sourceOffset}): ${d.value.errorCode} ${d.value.reason}`);

  // Figures.
  const arrivals = [...obs.reports.values()].flat().map((s) => s.at).sort((a, b) => a - b);
  let longestStall = 0;
  for (let i = 1; i < arrivals.length; i++) longestStall = Math.max(longestStall, arrivals[i] - arrivals[i - 1]);
  const faults = run.events.map((e) => {
    const after = arrivals.find((a) => a > e.end);
    return { what: e.what, atS: run.elapsed(e.start), lastedS: round((e.end - e.start) / 1000), recoveryS: after === undefined ? null : round((after - e.end) / 1000) };
  });
  const lastFault = run.events.length ? Math.max(...run.events.map((e) => e.end)) : null;
  const lastReport = arrivals.at(-1) ?? null;
  const restarts: Record<string, number> = {};
  const peakRssMB: Record<string, number> = {};
  for (const p of run.services) {
    restarts[p.id] = p.starts - 1;
    const peak = Math.max(p.readPeakRss(), ...p.peakRss, 0);
    peakRssMB[p.id] = Math.round(peak / 1e6);
  }
  const figures: Figures = {
    scenario: run.options.scenario,
    fleet: run.fleet.length,
    megabytes: round(run.fleet.reduce((n, f) => n + f.bytes, 0) / 1e6),
    uploads: run.submitted.reduce((n, s) => n + s.attempts, 0),
    failedUploads: run.submitted.reduce((n, s) => n + s.attempts - (s.result.ok ? 1 : 0), 0),
    reports: obs.reportCount,
    complete,
    equalToAnalyze: equal,
    incomplete,
    duplicates,
    losses,
    mismatches,
    alerts: [...obs.alerts.values()].reduce((n, a) => n + a.length, 0),
    alertProblems,
    deadLetters: obs.deadLetters.length,
    unexpectedDeadLetters: unexpectedDeadLetters.length,
    orphanUploads: orphans.length,
    orphansReported,
    unexpectedReports,
    faults,
    longestStallS: round(longestStall / 1000),
    drainS: lastFault !== null && lastReport !== null ? round((lastReport - lastFault) / 1000) : null,
    durationS: run.elapsed(),
    restarts,
    peakRssMB,
    ranAt: new Date().toISOString(),
  };
  return { problems, figures };
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}

/** Which top-level fields differ, with counts, for a one-line problem. */
function diffSummary(got: Report, want: Report): string {
  const keys = new Set([...Object.keys(got), ...Object.keys(want)]) as Set<keyof Report>;
  const diff: string[] = [];
  for (const k of keys) if (JSON.stringify(got[k]) !== JSON.stringify(want[k])) diff.push(`${k}: got ${JSON.stringify(got[k]).slice(0, 80)} want ${JSON.stringify(want[k]).slice(0, 80)}`);
  return diff.join('; ');
}

const FIGURES = path.resolve(__dirname, '..', 'results', 'figures.json');

/**
 * Records a scenario's figures in test/faults/results/figures.json (docs/RELIABILITY.md cites it),
 * under the scenario's name and the fleet size, beside the machine it ran on.
 */
export function recordFigures(figures: Figures, extra: Record<string, unknown> = {}): void {
  mkdirSync(path.dirname(FIGURES), { recursive: true });
  let all: { machine?: unknown; scenarios: Record<string, Record<string, unknown>> } = { scenarios: {} };
  try {
    all = JSON.parse(readFileSync(FIGURES, 'utf8')) as typeof all;
  } catch {
    // first run
  }
  all.machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 1e9), node: process.version, platform: `${os.platform()} ${os.release()}` };
  all.scenarios[figures.scenario] = { ...(all.scenarios[figures.scenario] ?? {}), [`fleet-${figures.fleet}`]: { ...figures, ...extra } };
  const sorted = Object.fromEntries(Object.entries(all.scenarios).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(FIGURES, `${JSON.stringify({ machine: all.machine, scenarios: sorted }, null, 2)}\n`);
}
