import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import type { Log } from './client';

/** Kafka's own default for `group.min.session.timeout.ms`: what a broker that cannot be asked is assumed to take. */
export const KAFKA_DEFAULT_MIN_SESSION_MS = 6_000;

const MIN_SESSION = 'group.min.session.timeout.ms';

/**
 * The group session timeout to ask for, given the one wanted: a broker refuses a consumer whose
 * session timeout is below its `group.min.session.timeout.ms` (INVALID_SESSION_TIMEOUT, which
 * kafkajs does not retry, so the worker would stop), and a stock broker's is 6 s. A shorter session
 * is what makes a dead worker's partitions move sooner (kafkajs has no static membership), so the
 * wanted value is kept where the broker allows it, and raised to the broker's least, with a
 * warning, where it does not. A broker that cannot be asked (an ACL, say) is taken to have Kafka's
 * default.
 */
export async function sessionTimeoutFor(kafka: Kafka, wantedMs: number, log: Log): Promise<number> {
  const min = await brokerMinSessionMs(kafka).catch((e: unknown) => {
    log.warn(`could not read the broker's ${MIN_SESSION}: taking Kafka's default`, { assumedMs: KAFKA_DEFAULT_MIN_SESSION_MS, error: e });
    return KAFKA_DEFAULT_MIN_SESSION_MS;
  });
  if (wantedMs >= min) return wantedMs;
  log.warn(`KAFKA_SESSION_TIMEOUT is below the broker's ${MIN_SESSION}: using the broker's least (a dead worker's partitions move that much later; lower the broker's setting to allow it)`, { wantedMs, usedMs: min });
  return min;
}

/** The broker's `group.min.session.timeout.ms`, read from the first broker of the cluster. */
async function brokerMinSessionMs(kafka: Kafka): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { brokers } = await admin.describeCluster();
    if (brokers.length === 0) throw new Error('the cluster listed no brokers');
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: String(brokers[0].nodeId), configNames: [MIN_SESSION] }],
    });
    const value = resources[0]?.configEntries.find((c) => c.configName === MIN_SESSION)?.configValue;
    const ms = Number(value);
    if (value === undefined || value === null || !Number.isFinite(ms) || ms < 0) throw new Error(`the broker answered ${MIN_SESSION}=${String(value)}`);
    return ms;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
