/** @dumpstream/kafka: topics of the pipeline and a kafkajs client configured for it. */
export { topicsFor, TOPIC_KINDS, LARGE_MESSAGE_BYTES } from './topics';
export type { TopicKind, TopicSpec, Topics } from './topics';
export { createKafka, atLeastOnceProducer, ensureTopics, compressionFor, isMessageTooLarge, COMPRESS_ABOVE_BYTES } from './client';
export type { KafkaConnection, Log } from './client';
export { crc32c, crc32cJs, installFastCrc32c, CRC32C_IMPLEMENTATION } from './crc32c';
export { concurrentTransactionsRetried, installEncoderFix, installRecordBatchFix, installRequestQueueFix, installTransactionRetryFix } from './kafkajs-fixes';
export { watchConsumerLag, lagOf } from './lag';
export { ByUploadPartitioner, uploadOfKey } from './partitioning';
export { sessionTimeoutFor, KAFKA_DEFAULT_MIN_SESSION_MS } from './session';
export type { ConsumerLagOptions, ConsumerLagWatch, PartitionOffsets } from './lag';
