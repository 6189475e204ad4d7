/**
 * Starts the real infrastructure of the integration tests once per jest run: a Kafka broker and
 * a Redis (test/support/infra.ts chooses: given addresses, Docker where an engine answers, or
 * local processes). Their addresses reach the test files as KAFKA_BROKERS and REDIS_URL.
 */
import { chooseInfra, startKafka, startRedis, type KafkaHandle, type RedisHandle } from './infra';

declare global {
  // eslint-disable-next-line no-var
  var __dumpstreamInfra: { kafka: KafkaHandle; redis: RedisHandle } | undefined;
}

export default async function globalSetup(): Promise<void> {
  const infra = await chooseInfra();
  const [kafka, redis] = await Promise.all([startKafka(infra), startRedis(infra)]);
  process.env.KAFKA_BROKERS = kafka.brokers;
  process.env.REDIS_URL = redis.url;
  globalThis.__dumpstreamInfra = { kafka, redis };
}
