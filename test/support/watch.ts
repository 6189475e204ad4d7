import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';

/**
 * A consumer of `topic` from its beginning, in a group of its own, that calls `onMessage` for each
 * message: how a test sees what the services put on a topic. The caller disconnects it.
 */
export async function watchTopic(kafka: Kafka, groupId: string, topic: string, onMessage: (payload: EachMessagePayload) => void): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async (payload) => onMessage(payload) });
  } catch (e) {
    await consumer.disconnect().catch(() => undefined);
    throw e;
  }
  return consumer;
}
