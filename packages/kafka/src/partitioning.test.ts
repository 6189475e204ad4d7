import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { ByUploadPartitioner, uploadOfKey } from './partitioning';

const partitions = (n: number): PartitionMetadata[] => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0, offlineReplicas: [] }));

describe('ByUploadPartitioner', () => {
  const uploads = Array.from({ length: 50 }, (_, i) => `0b6c${i.toString(16).padStart(4, '0')}-7f1e-4c3a-9d2b-5e8f1a2b3c${String(i).padStart(2, '0')}`);

  it.each([1, 2, 4, 8, 13])('puts every segment of an upload where the default partitioner puts the bare upload id (%i partitions)', (n) => {
    const byUpload = ByUploadPartitioner();
    const byKey = Partitioners.DefaultPartitioner();
    const meta = partitions(n);
    for (const id of uploads) {
      const want = byKey({ topic: 't', partitionMetadata: meta, message: { key: id, value: null } });
      for (const seq of [0, 1, 7, 100, 4321]) {
        expect(byUpload({ topic: 't', partitionMetadata: meta, message: { key: Buffer.from(`${id}:${seq}`), value: null } })).toBe(want);
      }
    }
  });

  it('spreads uploads over the partitions', () => {
    const byUpload = ByUploadPartitioner();
    const used = new Set(uploads.map((id) => byUpload({ topic: 't', partitionMetadata: partitions(8), message: { key: `${id}:0`, value: null } })));
    expect(used.size).toBeGreaterThan(4);
  });

  it('keeps a partition the message names', () => {
    expect(ByUploadPartitioner()({ topic: 't', partitionMetadata: partitions(8), message: { key: `${uploads[0]}:3`, value: null, partition: 6 } })).toBe(6);
  });
});

describe('uploadOfKey', () => {
  it('reads the upload of a segment key, a bare upload id, or none', () => {
    expect(uploadOfKey('abc:12')).toBe('abc');
    expect(uploadOfKey(Buffer.from('abc:12'))).toBe('abc');
    expect(uploadOfKey('abc')).toBe('abc');
    expect(uploadOfKey(':12')).toBe(':12');
    expect(uploadOfKey(null)).toBeNull();
  });
});
