/**
 * Whether the fleet's storm counts and events came through the faults exactly once: each dump
 * reported complete with a finding is counted once under its signature in the fleet state, every
 * signature with at least STORM_MIN_DUMPS of them (the fault runs set it low, see FAULT_STORMS)
 * started storming exactly once, the others never, and no (signature, seq) was published twice or
 * skipped. Returns the problems found.
 */
import Redis from 'ioredis';
import { FleetState } from '@dumpstream/fleet';
import { waitFor } from '../../support/ids';
import { sleep, type FaultRun } from './run';

/** The storm rule the fault runs use: a signature storms at 3 dumps; evaluated every second. */
export const FAULT_STORMS = { STORM_MIN_DUMPS: '3', STORM_EVALUATE_EVERY: '1s' } as const;
const MIN_DUMPS = Number(FAULT_STORMS.STORM_MIN_DUMPS);

export async function stormProblems(run: FaultRun): Promise<string[]> {
  const problems: string[] = [];
  // What the fleet should count: each dump reported complete with a finding, by its signature.
  const expected = new Map<string, number>();
  for (const seen of run.observer.reports.values()) {
    const complete = seen.find((s) => s.value.status === 'complete');
    const signature = complete?.value.findings[0]?.signature;
    if (signature) expected.set(signature, (expected.get(signature) ?? 0) + 1);
  }
  const storming = [...expected].filter(([, n]) => n >= MIN_DUMPS).map(([s]) => s);
  if (storming.length === 0) problems.push(`no signature reached ${MIN_DUMPS} dumps: the fleet tests no storm`);
  // An evaluator killed holding the lease is replaced once the lease lapses (DETECT_LEASE).
  const started = (s: string) => run.observer.storms.some((e) => e.value.signature === s && e.value.state === 'started');
  await waitFor('a started event for each storming signature', () => (storming.every(started) ? true : undefined), 120_000, 500).catch(() => undefined);
  await sleep(3000); // a re-publication, were there one, would come now

  const events = new Map<string, number[]>();
  for (const { value: e } of run.observer.storms) events.set(e.signature, [...(events.get(e.signature) ?? []), e.seq]);
  for (const [signature, seqs] of events) {
    const want = seqs.map((_, i) => i + 1);
    if (JSON.stringify(seqs) !== JSON.stringify(want)) problems.push(`${signature}: events seq ${seqs.join(',')}, expected ${want.join(',')} (a repeat or a gap)`);
    if ((expected.get(signature) ?? 0) < MIN_DUMPS) problems.push(`${signature}: storm events for ${expected.get(signature) ?? 0} dumps (fewer than ${MIN_DUMPS})`);
  }
  for (const s of storming) if (!started(s)) problems.push(`${s}: ${expected.get(s)} dumps and no started event`);

  const redis = new Redis(run.redis.url);
  try {
    const fleet = new FleetState(redis, { prefix: run.prefix });
    const now = Date.now();
    for (const [signature, n] of expected) {
      const counted = (await fleet.counts(signature, now, 24 * 3_600_000)).dumps;
      if (counted !== n) problems.push(`${signature}: counted ${counted} dumps in the fleet state, ${n} reported`);
    }
  } finally {
    redis.disconnect();
  }
  return problems;
}
