import { bucketOf, dumpsInWindow, type FleetState, type StormSettings, type StormStatus } from '@dumpstream/fleet';

/** A storm (or a quiet signature) as the look-up API and `dumpstream storms` show it. */
export interface StormView {
  signature: string;
  /** `storming`, `quiet`, or whatever states the source knows (the fleet state's own). */
  state: string;
  /** Dumps of the signature in the window. */
  dumps: number;
  /** Distinct hosts in the window (an estimate where the source counts with a HyperLogLog). */
  hosts: number;
  /** Since when it storms (ms), or first seen in the window when not storming; null if unknown. */
  since: number | null;
  lastSeen: number | null;
  /** `rising`, `falling`, `steady` (or the source's own words); null when it cannot say. */
  trend: string | null;
  /** A few dumpIds to look up. */
  examples: string[];
  /** Anything else the source knows (deepest chain, WerFault.exe total, thresholds passed…). */
  [more: string]: unknown;
}

/** Where the look-up reads storms from (the fleet state shared by the detect workers; tests may pass another). */
export interface StormSource {
  /** Said in answers (`fleet-state`), so a reader knows which rule they see. */
  readonly name: string;
  /** Storms now, or every signature seen in the window with `all`; the busiest first. */
  list(all: boolean): Promise<StormView[]>;
  /** One signature, storming or not; null when it has not been seen in the window. */
  one(signature: string): Promise<StormView | null>;
}

export interface FleetStormOptions {
  /** The storm rule's settings (STORM_*): the window counted, and the spike's span for the trend. */
  settings: Pick<StormSettings, 'windowMs' | 'spikeBuckets'>;
  now?: () => number;
}

/**
 * Storms read from the fleet state every detect worker counts into (packages/fleet): each
 * signature seen in the window with its counts, and the state the storm evaluator gave it
 * (`storming`, `ended`, or `quiet` when it never stormed in the retained day). Trend: the latest
 * spike span (STORM_SPIKE_BUCKETS) against the span before it.
 */
export function fleetStorms(fleet: FleetState, options: FleetStormOptions): StormSource {
  const now = options.now ?? Date.now;
  const { windowMs, spikeBuckets } = options.settings;
  const view = async (signature: string, status: StormStatus | undefined, at: number): Promise<StormView> => {
    const c = await fleet.counts(signature, at, windowMs);
    const last = bucketOf(at);
    let recent = 0;
    let before = 0;
    for (let b = last - spikeBuckets + 1; b <= last; b++) recent += c.buckets.get(b) ?? 0;
    for (let b = last - 2 * spikeBuckets + 1; b <= last - spikeBuckets; b++) before += c.buckets.get(b) ?? 0;
    const trend = recent > before * 1.5 ? 'rising' : before > recent * 1.5 ? 'falling' : 'steady';
    const storming = status?.state === 'storming';
    return {
      signature,
      state: status?.state ?? 'quiet',
      dumps: dumpsInWindow(c, at, windowMs),
      hosts: c.hostsInWindow,
      since: storming ? status!.since : c.firstSeen,
      lastSeen: c.lastSeen,
      trend,
      examples: c.examples,
      windowMs,
      reason: status?.reason ?? null,
      deepestChain: c.deepestChain,
      werFaults: c.werFaults,
      dumpsInDay: c.dumps,
      hostsInDay: c.hosts,
    };
  };
  return {
    name: 'fleet-state',
    async list(all) {
      const at = now();
      const statuses = await fleet.statuses();
      const signatures = all ? await fleet.signatures(at, at - windowMs) : [...statuses].filter(([, s]) => s.state === 'storming').map(([sig]) => sig);
      const views = await Promise.all(signatures.map((sig) => view(sig, statuses.get(sig), at)));
      return views.sort((a, b) => Number(b.state === 'storming') - Number(a.state === 'storming') || b.dumps - a.dumps || a.signature.localeCompare(b.signature));
    },
    async one(signature) {
      const at = now();
      const status = (await fleet.statuses()).get(signature);
      const v = await view(signature, status, at);
      return v.dumpsInDay === 0 && status === undefined ? null : v;
    },
  };
}
