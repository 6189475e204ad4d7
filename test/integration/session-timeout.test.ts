/**
 * sessionTimeoutFor on a real broker: a session timeout below the broker's
 * group.min.session.timeout.ms is raised to it, with a warning, and the broker accepts what it
 * gives (a consumer joins with it) while refusing anything shorter; one at or above it is kept.
 * That is what lets KAFKA_SESSION_TIMEOUT default to 3 s without stopping every worker on a stock
 * broker (whose least is 6 s).
 */
import { Kafka, logLevel } from 'kafkajs';
import { sessionTimeoutFor, type Log } from '@dumpstream/kafka';
import { uniquePrefix } from '../support/ids';

const kafka = new Kafka({ brokers: (process.env.KAFKA_BROKERS ?? '').split(','), clientId: 'session-test', logLevel: logLevel.NOTHING });

function recordingLog(): Log & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug: () => undefined, info: () => undefined, error: () => undefined, warn: (msg) => void warnings.push(msg) };
}

/**
 * Joins a fresh group on a fresh topic with `sessionTimeout`; resolves once joined, rejects with
 * the broker's refusal. Tried again on a retriable error (a broker just started is still loading
 * its group coordinator).
 */
async function join(sessionTimeout: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await joinOnce(sessionTimeout);
    } catch (e) {
      if ((e as { retriable?: boolean }).retriable !== true || attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function joinOnce(sessionTimeout: number): Promise<void> {
  const prefix = uniquePrefix('session');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${prefix}.t`, numPartitions: 1, replicationFactor: 1 }] });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `${prefix}-group`, sessionTimeout, heartbeatInterval: 100 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}.t`, fromBeginning: true });
    const joined = new Promise<void>((resolve, reject) => {
      consumer.on(consumer.events.GROUP_JOIN, () => resolve());
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
    });
    await consumer.run({ eachMessage: async () => undefined });
    await joined;
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

it('raises a session timeout below the broker\'s least to it, which the broker then accepts', async () => {
  const log = recordingLog();
  const least = await sessionTimeoutFor(kafka, 1, log);
  expect(least).toBeGreaterThanOrEqual(1);
  expect(log.warnings).toEqual([expect.stringMatching(/below the broker's group\.min\.session\.timeout\.ms/)]);
  await join(least);
  if (least > 1) await expect(join(least - 1)).rejects.toMatchObject({ type: 'INVALID_SESSION_TIMEOUT' });
}, 60_000);

it('keeps a session timeout the broker allows, without a warning', async () => {
  const log = recordingLog();
  const least = await sessionTimeoutFor(kafka, 1, recordingLog());
  expect(await sessionTimeoutFor(kafka, least + 2000, log)).toBe(least + 2000);
  expect(log.warnings).toEqual([]);
}, 60_000);
