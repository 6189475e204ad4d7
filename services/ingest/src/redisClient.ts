import { Redis } from 'ioredis';
import type { Log } from '@dumpstream/kafka';
import type { Config } from '@dumpstream/runtime';

/** Longest an upload's answer or a look-up waits for Redis. */
export const ASK_MS = 2_000;

/**
 * A connection to the detect workers' Redis (REDIS_URL) that fails fast instead of queueing:
 * ingest's answers are worth less than a slow upload, so while Redis is away each command fails at
 * once and `outage` is logged once per outage (again after the next `ready`).
 */
export function failFastRedis(config: Config, log: Log, outage: string): Redis {
  const redis = new Redis(config.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: ASK_MS,
    retryStrategy: (n) => Math.min(100 * 2 ** n, 2000),
    ...(config.redisTls ? { tls: {} } : {}),
  });
  let warned = false;
  redis.on('ready', () => (warned = false));
  redis.on('error', (e) => {
    if (!warned) log.warn(outage, { error: e });
    warned = true;
  });
  return redis;
}
