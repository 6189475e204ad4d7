/**
 * The parse service commits the offset of each segment it has parsed, also the last one of a
 * burst when nothing follows (kafkajs auto-commits at the end of every batch, not only on its
 * interval). Detect's sweeper relies on it: it waits for the parse group to catch up with the
 * segments topic before it calls any upload stalled.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, ensureTopics, topicsFor } from '@dumpstream/kafka';
import { parseGroup, startParse, type ParseHandle } from '@dumpstream/parse';
import { silentLog } from '@dumpstream/runtime';
import { encodeSegment } from '@dumpstream/schemas';
import { Segmenter, type Segment } from '@dumpstream/transcript';
import { testConfig } from '../support/config';
import { uniquePrefix, waitFor } from '../support/ids';

jest.setTimeout(60_000);

let parse: ParseHandle | undefined;
afterAll(async () => {
  await parse?.stop();
});

it('commits the last segment of a burst while no more come', async () => {
  const prefix = uniquePrefix('parsecommit');
  const config = testConfig(prefix, { DUMPSTREAM_PARTITIONS: '1', WORKER_ID: 'p1' });
  const topics = topicsFor(config.topicPrefix, { segments: 1, facts: 1 });
  await ensureTopics(createKafka({ brokers: config.kafka.brokers, clientId: 'parse-commit' }, silentLog), topics);
  parse = await startParse(config, { log: silentLog });

  const uploadId = randomUUID();
  const segments: Segment[] = [];
  const seg = new Segmenter((s) => segments.push(s), { keepLines: true, maxLines: 10 });
  seg.push(Buffer.from(Array.from({ length: 100 }, (_, i) => `PROCESS ffffa0000${1000 + i}  SessionId: 1  Cid: ${(i * 4).toString(16).padStart(4, '0')}    Peb: 7ffd0000  ParentCid: 0004\n    Image: p${i}.exe\n`).join('')));
  seg.end();
  expect(segments.length).toBeGreaterThan(5);
  const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'parse-commit-test', logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  // One burst, well within kafkajs' auto-commit interval.
  await producer.send({ topic: topics.segments.name, messages: segments.map((s) => ({ key: `${uploadId}:${s.seq}`, value: encodeSegment({ ...s, uploadId, source: 'burst.txt', host: null, receivedAt: Date.now() }) })) });
  await producer.disconnect();

  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor('the parse group to commit the whole burst', async () => {
      const [c] = await admin.fetchOffsets({ groupId: parseGroup(config), topics: [topics.segments.name] });
      return c.partitions[0]?.offset === String(segments.length) ? true : undefined;
    }, 20_000, 250);
  } finally {
    await admin.disconnect();
  }
});
