/**
 * Fault: messages delivered twice. Mid-run, a partition of `facts` is produced again whole (a
 * producer that retried past its idempotence, a mirror that copied twice); the parse group reads
 * a `segments` partition again from its start and the detect group a `facts` and a `manifests`
 * partition (offsets reset, as an operator replaying does); and once every dump is reported, the
 * detect group reads both its topics again from the start. Every dump is still reported exactly
 * once, and the full replay publishes nothing.
 */
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import { checkRun, recordFigures } from './support/check';
import { keptProblems } from './support/kept';
import { FAULT_STORMS, stormProblems } from './support/storms';
import { FaultRun, sleep } from './support/run';
import { startAndWait, type ServiceProcess } from './support/services';
import { waitFor } from '../support/ids';

jest.setTimeout(1_800_000);

let run: FaultRun;

afterAll(async () => {
  await run?.close();
});

/**
 * Stops a group's workers gracefully (they leave the group), waits until the broker has the group
 * empty (it may still be rebalancing a moment after the last one left, and then refuses to move
 * its offsets), moves its offsets, starts them again.
 */
async function withGroupStopped(admin: Admin, groupId: string, workers: ServiceProcess[], move: () => Promise<void>): Promise<void> {
  await Promise.all(workers.map((w) => w.stop()));
  await waitFor(`group ${groupId} empty`, async () => {
    const [g] = (await admin.describeGroups([groupId])).groups;
    return g === undefined || g.state === 'Empty' || g.state === 'Dead' ? true : undefined;
  }, 60_000, 200);
  await move();
  await Promise.all(workers.map((w) => startAndWait(w)));
}

it('reports every dump once when messages come twice', async () => {
  run = await FaultRun.start({ scenario: 'replay', env: FAULT_STORMS });
  const n = run.fleet.length;
  const t = run.observer.topics;
  const kafka = new Kafka({ brokers: [run.broker.brokers], clientId: 'replay', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const submitting = run.submit();
  let replayed = 0;

  await run.waitForProgress(Math.ceil(0.3 * n));
  await run.fault('facts partition 1 produced again whole', async () => {
    const high = Number((await admin.fetchTopicOffsets(t.facts.name)).find((p) => p.partition === 1)!.high);
    const copy: { key: Buffer | null; value: Buffer | null; headers?: IHeaders }[] = [];
    const reader = kafka.consumer({ groupId: `${run.prefix}-replay-reader`, maxBytes: 64 << 20 });
    await reader.connect();
    await reader.subscribe({ topic: t.facts.name, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ partition, message }) => {
        // With their headers: detect's report requests share the topic.
        if (partition === 1 && Number(message.offset) < high) copy.push({ key: message.key, value: message.value, headers: message.headers });
      },
    });
    await waitFor('the partition read', () => (copy.length >= high ? true : undefined), 120_000, 100);
    await reader.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < copy.length; i += 20) await producer.send({ topic: t.facts.name, compression: 1, messages: copy.slice(i, i + 20).map((m) => ({ ...m, partition: 1 })) });
    await producer.disconnect();
    replayed += copy.length;
  });

  await run.waitForProgress(Math.ceil(0.5 * n));
  await run.fault('parse group reads segments partition 2 again from offset 0', () =>
    withGroupStopped(admin, `${run.prefix}.parse`, run.parsers, async () => {
      const high = (await admin.fetchTopicOffsets(t.segments.name)).find((p) => p.partition === 2)!.high;
      replayed += Number(high);
      await admin.setOffsets({ groupId: `${run.prefix}.parse`, topic: t.segments.name, partitions: [{ partition: 2, offset: '0' }] });
    }),
  );
  await run.fault('detect group reads facts partition 0 and manifests partition 0 again from offset 0', () =>
    withGroupStopped(admin, `${run.prefix}.detect`, run.detectors, async () => {
      replayed += Number((await admin.fetchTopicOffsets(t.facts.name)).find((p) => p.partition === 0)!.high);
      replayed += Number((await admin.fetchTopicOffsets(t.manifests.name)).find((p) => p.partition === 0)!.high);
      await admin.setOffsets({ groupId: `${run.prefix}.detect`, topic: t.facts.name, partitions: [{ partition: 0, offset: '0' }] });
      await admin.setOffsets({ groupId: `${run.prefix}.detect`, topic: t.manifests.name, partitions: [{ partition: 0, offset: '0' }] });
    }),
  );

  await submitting;
  await run.waitForAll().catch(() => undefined);

  // Everything reported: the detect group reads all of facts and manifests again.
  const before = run.observer.reportCount;
  await run.fault('detect group reads all of facts and manifests again', () =>
    withGroupStopped(admin, `${run.prefix}.detect`, run.detectors, async () => {
      for (const topic of [t.facts.name, t.manifests.name]) {
        const offsets = await admin.fetchTopicOffsets(topic);
        replayed += offsets.reduce((m, p) => m + Number(p.high), 0);
        await admin.resetOffsets({ groupId: `${run.prefix}.detect`, topic, earliest: true });
      }
    }),
  );
  await waitFor('the detect group to catch up again', async () => {
    for (const topic of [t.facts.name, t.manifests.name]) {
      const highs = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId: `${run.prefix}.detect`, topics: [topic] });
      if (!highs.every((h) => committed.partitions.find((c) => c.partition === h.partition)?.offset === h.high)) return undefined;
    }
    return true;
  }, 300_000, 1000);
  await sleep(3000);
  const afterFullReplay = run.observer.reportCount - before;
  await admin.disconnect();

  const verdict = await checkRun(run);
  recordFigures(verdict.figures, { messagesReplayed: replayed, reportsAfterFullReplay: afterFullReplay });
  expect(verdict.problems).toEqual([]);
  // And each report is kept for the look-up, once, whoever reported it.
  expect(await keptProblems(run)).toEqual([]);
  // And the replayed messages counted no dump twice into the fleet's storms nor repeated an event.
  expect(await stormProblems(run)).toEqual([]);
  expect(afterFullReplay).toBe(0);
});
