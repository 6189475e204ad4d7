import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/**
 * The upload a message key names: `uploadId` itself, or the upload of `uploadId:seq` (a segment's
 * facts). Null for no key.
 */
export function uploadOfKey(key: Buffer | string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  const k = typeof key === 'string' ? key : key.toString('latin1');
  const colon = k.lastIndexOf(':');
  return colon > 0 ? k.slice(0, colon) : k;
}

/**
 * Puts every message of one upload on one partition: the partition kafkajs's default
 * (Java-compatible) partitioner picks for the key `uploadId`. Facts keyed `uploadId:seq` thus land
 * where a message keyed by the bare upload id does, so detect's report request for an upload,
 * sent keyed `uploadId` with the default partitioner, follows that upload's facts on the same
 * partition and reaches the worker that merged them (and still holds them: see detect's
 * FactsCache). Messages that name a partition keep it.
 */
export const ByUploadPartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  return ({ topic, partitionMetadata, message }) => byKey({ topic, partitionMetadata, message: { ...message, key: uploadOfKey(message.key) } });
};
