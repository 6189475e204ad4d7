import type { Log } from '@dumpstream/kafka';
import { DumpStore } from '@dumpstream/redis';
import type { Config } from '@dumpstream/runtime';
import { failFastRedis } from './redisClient';

/**
 * What the upload answer says about identical bytes sent before: `duplicate` is null when Redis
 * could not be asked (the pipeline still drops a duplicate; the answer just cannot say so).
 */
export interface DuplicateVerdict {
  duplicate: boolean | null;
  /** The upload of identical bytes that holds the report (present when duplicate is true). */
  duplicateOf?: string;
}

/** Asks, at upload time, whether another upload holds this content (see DumpStore.contentHolder). */
export interface DuplicateCheck {
  verdict(dumpId: string, uploadId: string): Promise<DuplicateVerdict>;
  close(): Promise<void>;
}

/**
 * A DuplicateCheck on the detect workers' Redis (REDIS_URL, REDIS_KEY_PREFIX). It claims the
 * content for the upload in the same key detect claims before it reports, so the answer and the
 * pipeline agree, also for two identical uploads at once. Redis being away never fails an upload:
 * ingest waits for it up to 3 s at start, then asks without queueing.
 */
export async function redisDuplicateCheck(config: Config, log: Log): Promise<DuplicateCheck> {
  // The uploads go on while Redis is away; their answers say `duplicate: null`.
  const redis = failFastRedis(config, log, 'redis unreachable: upload answers cannot tell duplicates until it is back');
  let up = false;
  redis.on('ready', () => (up = true));
  redis.on('error', () => (up = false));
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 3_000);
    redis.once('ready', () => {
      clearTimeout(t);
      resolve();
    });
  });
  const store = new DumpStore(redis, { prefix: config.redisKeyPrefix });
  return {
    async verdict(dumpId, uploadId) {
      if (!up) return { duplicate: null };
      try {
        const holder = await store.contentHolder(dumpId, uploadId);
        return holder === uploadId ? { duplicate: false } : { duplicate: true, duplicateOf: holder };
      } catch (e) {
        log.warn('could not ask redis whether the upload is a duplicate', { uploadId, error: e });
        return { duplicate: null };
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
