import type { Log } from '@dumpstream/kafka';
import { FleetState } from '@dumpstream/fleet';
import { ReportStore } from '@dumpstream/redis';
import type { Config } from '@dumpstream/runtime';
import { ReportLookup } from './lookup';
import { failFastRedis } from './redisClient';
import { fleetStorms, type StormSource } from './storms';

/**
 * The look-up API on the detect workers' Redis (REDIS_URL, REDIS_KEY_PREFIX), with the report
 * retention detect keeps them for. Its own connection, failing fast: a look-up while Redis is
 * away answers 503 at once instead of queueing, and uploads never wait for it.
 */
export function openLookup(config: Config, log: Log, options: { now?: () => number; storms?: (reports: ReportStore) => StormSource } = {}): { api: ReportLookup; close(): Promise<void> } {
  // Uploads go on while Redis is away; look-ups answer 503 until it is back.
  const redis = failFastRedis(config, log, 'redis unreachable: the look-up API answers 503 until it is back');
  const reports = new ReportStore(redis, { prefix: config.redisKeyPrefix, retentionMs: config.reports.retentionMs, keepMaxBytes: config.reports.keepMaxBytes, now: options.now });
  // The storms the detect workers count and evaluate (packages/fleet), with the same rule settings.
  const storms = options.storms?.(reports) ?? fleetStorms(new FleetState(redis, { prefix: config.redisKeyPrefix }), { settings: config.storms, now: options.now });
  const api = new ReportLookup(reports, storms, { token: config.ingest.token, redisReady: () => redis.status === 'ready', now: options.now }, log);
  return {
    api,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
