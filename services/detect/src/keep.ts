import type { Redis } from 'ioredis';
import type { Log } from '@dumpstream/kafka';
import { ReportStore, type ManifestRecord, type ReportSummaryInput } from '@dumpstream/redis';
import type { Report } from '@dumpstream/report';
import type { Config } from '@dumpstream/runtime';

/** Keeps reports for the look-up API (ingest's GET /v1/reports). */
export interface ReportKeeper {
  /**
   * Keeps `encoded`, the Avro bytes of `report` as built, just before its transaction publishes
   * them (idempotent per dump, so a reporter that dies before the commit costs nothing: its
   * successor keeps the same report again). Where the reports topic cannot carry them and a
   * report goes out without frames, the look-up keeps the fuller one. Throws on a Redis failure,
   * which the reporter retries like any other before it publishes.
   */
  keep(report: Report, encoded: Buffer, manifest: ManifestRecord | null, withoutFrames?: () => Buffer): Promise<void>;
}

/** A full sweep of the indexes at most this often per worker; each keep trims what it touches. */
const TRIM_EVERY_MS = 3_600_000;

/** A keeper on detect's Redis, with REPORT_RETENTION and REPORT_KEEP_MAX_BYTES. */
export function reportKeeper(redis: Redis, config: Config, log: Log): ReportKeeper {
  const store = new ReportStore(redis, { prefix: config.redisKeyPrefix, retentionMs: config.reports.retentionMs, keepMaxBytes: config.reports.keepMaxBytes });
  let trimmedAt = Date.now();
  return {
    async keep(report, encoded, manifest, withoutFrames) {
      const outcome = await store.keep(summaryOf(report, manifest?.receivedAt ?? Date.now()), encoded, withoutFrames);
      if (outcome === 'expired') log.warn('report older than REPORT_RETENTION: not kept for the look-up', { dumpId: report.dumpId });
      if (Date.now() - trimmedAt > TRIM_EVERY_MS) {
        trimmedAt = Date.now();
        // Trimming is housekeeping: a failure waits for the next sweep and holds no report up.
        await store.trim().catch((e: unknown) => log.warn('could not trim the look-up indexes; will retry', { error: e }));
      }
    },
  };
}

/** The signature a report carries (its own field, else its first finding's), null without one. */
export function signatureOf(report: Report): string | null {
  const own = (report as { signature?: string | null }).signature;
  if (typeof own === 'string') return own;
  const f = report.findings[0] as { signature?: string | null } | undefined;
  return typeof f?.signature === 'string' ? f.signature : null;
}

/** The summary the look-up lists for a report received at `time`. */
export function summaryOf(report: Report, time: number): ReportSummaryInput {
  const f = report.findings[0];
  const deepest = f?.chains.reduce<(typeof f.chains)[number] | null>((a, c) => (a === null || c.length > a.length ? c : a), null) ?? null;
  return {
    dumpId: report.dumpId,
    host: report.host,
    time,
    signature: signatureOf(report),
    rootImage: deepest?.root.image ?? null,
    chainDepth: deepest?.length ?? 0,
    werFaults: f?.werFaultProcesses ?? 0,
    state: report.status,
    source: report.source,
    severity: f?.severity ?? null,
  };
}
