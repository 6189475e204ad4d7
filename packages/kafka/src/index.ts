/** @dumpstream/kafka: topics of the pipeline and a kafkajs client configured for it. */
export { topicsFor, TOPIC_KINDS } from './topics';
export type { TopicKind, TopicSpec, Topics } from './topics';
export { createKafka, ensureTopics } from './client';
export type { KafkaConnection, Log } from './client';
