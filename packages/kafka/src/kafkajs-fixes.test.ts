import { CONCURRENT_TRANSACTIONS_RETRIES, concurrentTransactionsBackoff, installEncoderFix, installRecordBatchFix, installRequestQueueFix, retryConcurrentTransactions } from './kafkajs-fixes';

/* eslint-disable @typescript-eslint/no-require-imports */
const Encoder = require('kafkajs/src/protocol/encoder.js');
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js');
const recordBatchModule = require('kafkajs/src/protocol/recordBatch/v0/index.js');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const Long = require('kafkajs/src/utils/long.js');
// kafkajs's own, taken before installRecordBatchFix replaces it.
const kafkajsRecordBatch = recordBatchModule.RecordBatch;

describe('kafkajs fixes', () => {
  it('the Encoder writes the same bytes when it holds large parts by reference', () => {
    const big = (n: number, fill: number) => Buffer.alloc(n, fill);
    // Shaped like a produce request: records with small and large values, an array of them in a
    // batch whose bytes are read (the CRC) before it is nested, sizes written before encoders.
    const build = () => {
      const record = (value: Buffer) => new Encoder().writeInt8(0).writeVarIntString('k:1').writeVarIntBytes(value);
      const records = [record(big(100_000, 1)), record(Buffer.from('small')), record(big(70_000, 2)), record(big(65_536, 3))];
      const body = new Encoder().writeInt16(0).writeArray(records, 'object');
      const crcInput = Buffer.from(body.buffer);
      const batch = new Encoder().writeInt32(0).writeInt8(2).writeUInt32(crcInput.length).writeEncoder(body);
      const partition = new Encoder().writeInt32(7).writeInt32(batch.size()).writeEncoder(batch).writeBytes(big(80_000, 4)).writeString('tail');
      const request = new Encoder().writeInt32(partition.size()).writeEncoder(partition).writeEncoderArray([new Encoder().writeInt8(9), partition]);
      const once = Buffer.from(request.buffer);
      const twice = request.buffer as Buffer;
      request.writeInt32(-1); // writing after the bytes were asked for
      return { once, twice: Buffer.from(twice), after: Buffer.from(request.buffer), size: request.size() as number, crcInput };
    };
    const before = build();
    expect(installEncoderFix()).toBe(true);
    const after = build();
    expect(after.once.equals(before.once)).toBe(true);
    expect(after.twice.equals(before.once)).toBe(true);
    expect(after.after.equals(before.after)).toBe(true);
    expect(after.crcInput.equals(before.crcInput)).toBe(true);
    expect(after.size).toBe(before.size);
    expect(after.size).toBe(after.after.length);
  });

  it('the record batch has the same bytes, checksum included, without copying the batch', async () => {
    expect(installRecordBatchFix()).toBe(true);
    expect(recordBatchModule.RecordBatch).not.toBe(kafkajsRecordBatch);
    const records = () =>
      [Buffer.alloc(200_000, 7), Buffer.from('small'), Buffer.alloc(70_000, 9), Buffer.alloc(10, 1)].map((value, i) =>
        Record({ key: Buffer.from(`u:${i}`), value, offsetDelta: i, timestampDelta: i, headers: i === 1 ? { h: 'v' } : {} }),
      );
    const cases = [
      { records: records(), firstTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_003, lastOffsetDelta: 3 },
      { records: records(), firstTimestamp: 5, maxTimestamp: 9, lastOffsetDelta: 3, transactional: true, producerId: Long.fromValue(42), producerEpoch: 3, firstSequence: 17 },
      { records: records().slice(1, 2), firstTimestamp: 1, maxTimestamp: 1, lastOffsetDelta: 0, partitionLeaderEpoch: 2, firstOffset: Long.fromInt(5) },
    ];
    for (const c of cases) {
      const want = Buffer.from((await kafkajsRecordBatch(c)).buffer);
      const got = await recordBatchModule.RecordBatch(c);
      expect(got.size()).toBe(want.length);
      expect(Buffer.from(got.buffer).equals(want)).toBe(true);
    }
  });

  it('the request queue schedules no check when no request waits, and one when a request waits', () => {
    expect(installRequestQueueFix()).toBe(true);
    const idle = { pending: [], throttledUntil: -1, throttleCheckTimeoutId: null, checkPendingRequests: jest.fn() };
    RequestQueue.prototype.scheduleCheckPendingRequests.call(idle);
    expect(idle.throttleCheckTimeoutId).toBeNull();
    const waiting = { pending: [{}], throttledUntil: Date.now() + 60_000, throttleCheckTimeoutId: null as NodeJS.Timeout | null, checkPendingRequests: jest.fn() };
    RequestQueue.prototype.scheduleCheckPendingRequests.call(waiting);
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(waiting.throttleCheckTimeoutId!);
  });

  describe('AddPartitionsToTxn refused with CONCURRENT_TRANSACTIONS', () => {
    const refused = () => Object.assign(new Error('There is already a pending transaction'), { type: 'CONCURRENT_TRANSACTIONS' });
    it('is sent again, after short waits, until the coordinator takes it', async () => {
      const waits: number[] = [];
      let calls = 0;
      const send = async () => {
        calls++;
        if (calls <= 3) throw refused();
        return 'added';
      };
      await expect(retryConcurrentTransactions(send, async (ms) => void waits.push(ms))).resolves.toBe('added');
      expect(calls).toBe(4);
      expect(waits).toEqual([5, 10, 20]);
    });
    it('gives any other error, and the last refusal, to kafkajs as it came', async () => {
      const other = Object.assign(new Error('not the coordinator'), { type: 'NOT_COORDINATOR' });
      let calls = 0;
      await expect(retryConcurrentTransactions(async () => { calls++; throw other; }, async () => undefined)).rejects.toBe(other);
      expect(calls).toBe(1);
      calls = 0;
      const last = refused();
      await expect(retryConcurrentTransactions(async () => { calls++; throw last; }, async () => undefined)).rejects.toBe(last);
      expect(calls).toBe(CONCURRENT_TRANSACTIONS_RETRIES + 1);
      // About half a second of quick retries in all, before kafkajs's own retry policy.
      const total = Array.from({ length: CONCURRENT_TRANSACTIONS_RETRIES }, (_, i) => concurrentTransactionsBackoff(i)).reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(300);
      expect(total).toBeLessThan(1000);
    });
  });
});
