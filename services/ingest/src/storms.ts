import type { ReportStore } from '@dumpstream/redis';

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

/** Where the look-up reads storms from: the fleet state shared by the detect workers, or the report index. */
export interface StormSource {
  /** `report-index` or `fleet-state`: said in answers, so a reader knows which rule they see. */
  readonly name: string;
  /** Storms now, or every signature seen in the window with `all`; the busiest first. */
  list(all: boolean): Promise<StormView[]>;
  /** One signature, storming or not; null when it has not been seen in the window. */
  one(signature: string): Promise<StormView | null>;
}

export interface IndexStormOptions {
  /** The window counted (default one hour). */
  windowMs?: number;
  /** Dumps in the window from which a signature is storming (default 10). */
  minDumps?: number;
  /** Distinct hosts in the window from which a signature is storming (default 5). */
  minHosts?: number;
  now?: () => number;
}

/**
 * Storms read from the kept reports' signature index: a signature with at least `minDumps` dumps
 * or `minHosts` hosts in the last `windowMs` is storming. A stand-in for the fleet state (which
 * also has spikes over a baseline, quiet periods and exact-once events): it counts only what is
 * kept, so it forgets with REPORT_RETENTION and says nothing of dumps whose keeping failed.
 */
export function indexStorms(reports: ReportStore, options: IndexStormOptions = {}): StormSource {
  const windowMs = options.windowMs ?? 3_600_000;
  const minDumps = options.minDumps ?? 10;
  const minHosts = options.minHosts ?? 5;
  const now = options.now ?? Date.now;
  const views = async (): Promise<StormView[]> => {
    const until = now();
    const since = until - windowMs;
    const half = since + windowMs / 2;
    const counts = await reports.signatureCounts(since, until);
    return Promise.all(
      counts.map(async (c) => {
        // Trend: the window's second half against its first.
        const recent = (await reports.list({ signature: c.signature, since: half, until, limit: 1000 })).reports.length;
        const earlier = c.dumps - recent;
        const trend = recent > earlier * 1.5 ? 'rising' : earlier > recent * 1.5 ? 'falling' : 'steady';
        const storming = c.dumps >= minDumps || c.hosts >= minHosts;
        return { signature: c.signature, state: storming ? 'storming' : 'quiet', dumps: c.dumps, hosts: c.hosts, since: c.first, lastSeen: c.last, trend, examples: c.examples, windowMs };
      }),
    );
  };
  return {
    name: 'report-index',
    async list(all) {
      return (await views()).filter((v) => all || v.state === 'storming');
    },
    async one(signature) {
      return (await views()).find((v) => v.signature === signature) ?? null;
    },
  };
}
