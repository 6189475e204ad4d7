import { dumpsInWindow, nextStorm, stormReason, type StormSettings, type StormStatus } from './rule';
import type { FleetState, SignatureCounts, StormTransition } from './state';

/** One evaluation of every signature: what it wrote, and the counts it read (for the metrics). */
export interface StormEvaluation {
  /** false: the lease was lost before the transitions were written; nothing was. */
  committed: boolean;
  transitions: StormTransition[];
  /** Every signature seen in the retained day, with its dumps in the window, most first. */
  signatures: (SignatureCounts & { dumpsInWindow: number; storming: boolean })[];
}

/**
 * Evaluates the storm rule for every signature of the retained day (and every storm still on) at
 * `now`, and writes the transitions and their events in one script under the lease `token`.
 * Running it twice at the same `now` writes nothing the second time.
 */
export async function evaluateStorms(state: FleetState, token: string, now: number, s: StormSettings): Promise<StormEvaluation> {
  const [recent, statuses] = await Promise.all([state.signatures(now), state.statuses()]);
  const all = new Set(recent);
  for (const [sig, st] of statuses) if (st.state === 'storming') all.add(sig);
  const transitions: StormTransition[] = [];
  const signatures: StormEvaluation['signatures'] = [];
  for (const signature of all) {
    const c = await state.counts(signature, now, s.windowMs);
    const inWindow = dumpsInWindow(c, now, s.windowMs);
    const prev = statuses.get(signature) ?? null;
    const { status, event } = nextStorm(prev, stormReason(c, now, s), now, s);
    signatures.push({ ...c, dumpsInWindow: inWindow, storming: status?.state === 'storming' });
    if (status === null || status === prev) continue;
    transitions.push({
      signature,
      status,
      event:
        event === null
          ? null
          : {
              signature,
              state: event,
              seq: status.seq,
              at: now,
              since: status.since,
              lastSeen: c.lastSeen,
              dumpsInWindow: inWindow,
              hostsInWindow: c.hostsInWindow,
              windowMs: s.windowMs,
              reason: status.reason,
              examples: c.examples,
              deepestChain: c.deepestChain,
              werFaults: c.werFaults,
            },
    });
  }
  // Statuses of storms that ended and whose signature fell out of the day: bounded memory.
  const stale = [...statuses].filter(([sig, st]: [string, StormStatus]) => st.state === 'ended' && !all.has(sig)).map(([sig]) => sig);
  const committed = await state.commitTransitions(token, transitions);
  if (committed) await state.forgetStatuses(stale);
  signatures.sort((a, b) => b.dumpsInWindow - a.dumpsInWindow || b.dumps - a.dumps || (a.signature < b.signature ? -1 : 1));
  return { committed, transitions, signatures };
}

/**
 * The top `n` signatures by dumps in the window, and the rest summed as `other`: the metric's
 * label values, the same on every worker that reads the same state.
 */
export function topSignatures(evaluation: StormEvaluation, n: number): { signature: string; dumpsInWindow: number; hostsInWindow: number; storming: boolean }[] {
  const top = evaluation.signatures.slice(0, n).map((c) => ({ signature: c.signature, dumpsInWindow: c.dumpsInWindow, hostsInWindow: c.hostsInWindow, storming: c.storming }));
  const rest = evaluation.signatures.slice(n);
  if (rest.length > 0) {
    top.push({ signature: 'other', dumpsInWindow: rest.reduce((x, c) => x + c.dumpsInWindow, 0), hostsInWindow: rest.reduce((x, c) => x + c.hostsInWindow, 0), storming: rest.some((c) => c.storming) });
  }
  return top;
}
