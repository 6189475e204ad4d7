/** Stops what globalSetup started (nothing, when it was given addresses). */
export default async function globalTeardown(): Promise<void> {
  const infra = globalThis.__dumpstreamInfra;
  if (!infra) return;
  await Promise.allSettled([infra.kafka.stop(), infra.redis.stop()]);
}
