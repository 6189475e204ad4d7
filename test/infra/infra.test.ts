/**
 * Smoke test of the real test infrastructure (test/support/infra.ts): starts Kafka and Redis
 * the way the integration tests' global setup does (local processes, or containers where a
 * Docker engine answers or DUMPSTREAM_INFRA=docker), round-trips one message through a new
 * topic and one key through Redis, then stops both.
 *
 * The first run on a machine also downloads the Kafka jars (~10 s, cached afterwards).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Consumer, type Producer } from 'kafkajs';
import {
  chooseInfra,
  redisCommand,
  startKafka,
  startPrivateRedis,
  startRedis,
  type KafkaHandle,
  type RedisHandle,
} from '../support/infra';

jest.setTimeout(60_000);

let kafkaInfra: KafkaHandle | undefined;
let redisInfra: RedisHandle | undefined;

beforeAll(async () => {
  // startKafka/startRedis, not the addresses globalSetup made: this starts and stops its own.
  const given = { kafka: process.env.KAFKA_BROKERS, redis: process.env.REDIS_URL };
  delete process.env.KAFKA_BROKERS;
  delete process.env.REDIS_URL;
  try {
    const infra = await chooseInfra();
    [kafkaInfra, redisInfra] = await Promise.all([startKafka(infra), startRedis(infra)]);
  } finally {
    if (given.kafka !== undefined) process.env.KAFKA_BROKERS = given.kafka;
    if (given.redis !== undefined) process.env.REDIS_URL = given.redis;
  }
}, 15 * 60_000); // a first fetch of the jars, or a first pull of the images, on a slow network

afterAll(async () => {
  await Promise.allSettled([kafkaInfra?.stop(), redisInfra?.stop()]);
}, 60_000);

describe('the test Kafka', () => {
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  afterAll(async () => {
    await producer?.disconnect().catch(() => {});
    await consumer?.disconnect().catch(() => {});
  });

  it('creates a topic, produces one message and consumes it back', async () => {
    const brokers = kafkaInfra!.brokers.split(',');
    expect(brokers[0]).toMatch(/^[\w.\-[\]:]+:\d+$/);
    // NOTHING: kafkajs logs the first group join's retriable "group coordinator is not available"
    // (the broker creates __consumer_offsets on first use) at ERROR level.
    const kafka = new Kafka({ clientId: 'infra-smoke', brokers, logLevel: logLevel.NOTHING });
    const topic = `infra-smoke-${randomUUID()}`;

    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      expect(created).toBe(true);
      expect(await admin.listTopics()).toContain(topic);
    } finally {
      await admin.disconnect();
    }

    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    const value = `hello ${randomUUID()}`;
    await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value }] });

    consumer = kafka.consumer({ groupId: `infra-smoke-${randomUUID()}`, allowAutoTopicCreation: false });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = new Promise<{ key: string | undefined; value: string | undefined }>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ message }) => {
          resolve({ key: message.key?.toString(), value: message.value?.toString() });
        },
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const got = await Promise.race([
      received,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      }),
    ]).finally(() => clearTimeout(timer));
    expect(got).toEqual({ key: 'k1', value });
  });
});

describe('the test Redis', () => {
  it('SETs and GETs a key', async () => {
    const url = redisInfra!.url;
    const key = `dumpstream:infra-smoke:${randomUUID()}`;
    expect(await redisCommand(url, ['SET', key, 'v1', 'EX', '60'])).toBe('OK');
    expect(await redisCommand(url, ['GET', key])).toBe('v1');
    expect(await redisCommand(url, ['DEL', key])).toBe(1);
    expect(await redisCommand(url, ['GET', key])).toBeNull();
  });

  // the fault scenarios' own redis-server (a local process on either path)
  (process.env.DUMPSTREAM_INFRA === 'docker' ? it.skip : it)('starts and stops a private redis-server', async () => {
    const own = await startPrivateRedis();
    try {
      expect(own.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(await redisCommand(own.url, ['SET', 'k', 'v'])).toBe('OK');
      expect(await redisCommand(own.url, ['GET', 'k'])).toBe('v');
    } finally {
      await own.stop();
    }
    await expect(redisCommand(own.url, ['PING'], 1000)).rejects.toThrow();
  });
});

describe('chooseInfra', () => {
  const saved = process.env.DUMPSTREAM_INFRA;
  afterEach(() => {
    if (saved === undefined) delete process.env.DUMPSTREAM_INFRA;
    else process.env.DUMPSTREAM_INFRA = saved;
  });

  it('honours DUMPSTREAM_INFRA and rejects other values', async () => {
    process.env.DUMPSTREAM_INFRA = 'local';
    await expect(chooseInfra()).resolves.toBe('local');
    process.env.DUMPSTREAM_INFRA = 'docker';
    await expect(chooseInfra()).resolves.toBe('docker');
    process.env.DUMPSTREAM_INFRA = 'podman';
    await expect(chooseInfra()).rejects.toThrow(/DUMPSTREAM_INFRA must be/);
  });

  it('probes `docker info` otherwise', async () => {
    delete process.env.DUMPSTREAM_INFRA;
    await expect(chooseInfra()).resolves.toMatch(/^(local|docker)$/);
  });
});
