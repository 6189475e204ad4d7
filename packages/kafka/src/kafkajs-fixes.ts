/**
 * Two measured costs inside kafkajs 2.2.4, worked around from outside (the client stays kafkajs):
 *
 * - its request queue keeps a 1 ms timer running on every broker connection (installRequestQueueFix);
 * - its protocol Encoder grows by zero-filled allocations (installEncoderFix);
 * - its record batch copies the batch twice on the way (installRecordBatchFix);
 * - a transaction begun just after another waits ~150 ms in its first send (installTransactionRetryFix).
 */
import { createRequire } from 'node:module';
import { crc32cOfParts } from './crc32c';

const kafkajsRequire = (): NodeJS.Require => createRequire(require.resolve('kafkajs'));

/**
 * The request queue's timer. Why: after each response, RequestQueue.checkPendingRequests calls scheduleCheckPendingRequests,
 * which sets a timeout even when no request waits and the client is not throttled; the timeout's
 * delay (throttledUntil - now) is negative, so it fires after 1 ms and schedules the next one:
 * a thousand wake-ups a second per connection, idle or not (2.6–5 % of each service's samples in
 * the CPU profiles of bench/RESULTS.md). Here the check is scheduled only when a request waits;
 * a request that arrives later is checked by push(), and every response checks the queue again.
 * Measured: an idle producer + consumer + admin used 448 ms of CPU in 10 s, 51 ms with the fix.
 */
/** The interval kafkajs polls a throttled queue at (its CHECK_PENDING_REQUESTS_INTERVAL). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

let installed = false;
let encoderInstalled = false;
let recordBatchInstalled = false;
let transactionRetryInstalled = false;

/** Replaces RequestQueue.prototype.scheduleCheckPendingRequests (once). False when kafkajs's layout is not the one known. */
export function installRequestQueueFix(): boolean {
  if (installed) return true;
  let RequestQueue: { prototype: RequestQueueInternals };
  try {
    RequestQueue = kafkajsRequire()('./src/network/requestQueue/index.js') as typeof RequestQueue;
  } catch {
    return false;
  }
  if (typeof RequestQueue.prototype?.scheduleCheckPendingRequests !== 'function') return false;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.pending.length === 0 || this.throttleCheckTimeoutId) return;
    const throttled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      throttled > 0 ? throttled : CHECK_PENDING_REQUESTS_INTERVAL,
    );
  };
  installed = true;
  return true;
}

interface EncoderInternals {
  buf: Buffer;
  offset: number;
  /** Bytes written before `buf`, in order, held by reference (this fix's addition). */
  chunks?: Buffer[] | null;
  chunkBytes?: number;
  ensureAvailable(length: number): void;
  writeBufferInternal(buffer: Buffer): void;
  writeEncoder(value: EncoderInternals): EncoderInternals;
  writeEncoderArray(values: EncoderInternals[]): EncoderInternals;
  size(): number;
  readonly buffer: Buffer;
}

/** Buffers at least this large are held by reference, not copied, by an Encoder (installEncoderFix). */
export const ENCODER_REFERENCE_BYTES = 64 * 1024;

/**
 * The protocol Encoder's copies. Why: a produce request is built by nested Encoders (record,
 * records, batch, partition, topic, request) and each level copies everything below it into a
 * buffer that grows by doubling, zero-filled (Buffer.alloc): a message's bytes were copied about
 * seven times. In the CPU profiles of the fleet load this was 6 % of ingest, 14 % of parse and
 * 18–23 % of detect (large reports). Here an Encoder keeps large buffers and nested encoders' parts
 * by reference and copies once when its bytes are asked for (`buffer`: the batch's CRC, the batch
 * itself, the request on the socket): three copies. It grows without zero-filling (only bytes up to
 * `offset` are ever read). Same bytes (kafkajs-fixes.test.ts; the broker checks every batch's CRC).
 */
export function installEncoderFix(): boolean {
  if (encoderInstalled) return true;
  let Encoder: { prototype: EncoderInternals; nextPowerOfTwo(n: number): number };
  try {
    Encoder = kafkajsRequire()('./src/protocol/encoder.js') as typeof Encoder;
  } catch {
    return false;
  }
  const proto = Encoder.prototype;
  const known = ['ensureAvailable', 'writeBufferInternal', 'writeEncoder', 'writeEncoderArray', 'size'] as const;
  if (known.some((m) => typeof proto?.[m] !== 'function') || typeof Encoder.nextPowerOfTwo !== 'function') return false;

  /** Ends the bytes written so far as a chunk; writing goes on in the rest of `buf`. */
  const spill = (e: EncoderInternals): Buffer[] => {
    const chunks = (e.chunks ??= []);
    e.chunkBytes ??= 0;
    if (e.offset > 0) {
      chunks.push(e.buf.subarray(0, e.offset));
      e.chunkBytes += e.offset;
      e.buf = e.buf.subarray(e.offset);
      e.offset = 0;
    }
    return chunks;
  };
  const isEncoder = (v: unknown): v is EncoderInternals => v != null && Buffer.isBuffer((v as EncoderInternals).buf);

  proto.ensureAvailable = function (this: EncoderInternals, length: number) {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  proto.writeBufferInternal = function (this: EncoderInternals, buffer: Buffer) {
    if (buffer.length < ENCODER_REFERENCE_BYTES) {
      this.ensureAvailable(buffer.length);
      buffer.copy(this.buf, this.offset, 0);
      this.offset += buffer.length;
      return;
    }
    spill(this).push(buffer);
    this.chunkBytes! += buffer.length;
  };
  proto.writeEncoder = function (this: EncoderInternals, value: EncoderInternals) {
    if (!isEncoder(value)) throw new Error('value should be an instance of Encoder');
    if (!value.chunks || value.chunks.length === 0) {
      this.writeBufferInternal(value.buf.subarray(0, value.offset));
      return this;
    }
    const chunks = spill(this);
    for (const c of value.chunks) chunks.push(c);
    if (value.offset > 0) chunks.push(value.buf.subarray(0, value.offset));
    this.chunkBytes! += value.size();
    return this;
  };
  proto.writeEncoderArray = function (this: EncoderInternals, values: EncoderInternals[]) {
    if (!Array.isArray(values) || !values.every(isEncoder)) throw new Error('all values should be an instance of Encoder[]');
    for (const v of values) this.writeEncoder(v);
    return this;
  };
  proto.size = function (this: EncoderInternals) {
    return this.offset + (this.chunkBytes ?? 0);
  };
  Object.defineProperty(proto, 'buffer', {
    configurable: true,
    get(this: EncoderInternals) {
      if (!this.chunks || this.chunks.length === 0) return this.buf.subarray(0, this.offset);
      // Once: the parts become one buffer, which later calls return as it is.
      const whole = Buffer.concat([...this.chunks, this.buf.subarray(0, this.offset)], this.size());
      this.chunks = null;
      this.chunkBytes = 0;
      this.buf = whole;
      this.offset = whole.length;
      return whole;
    },
  });
  encoderInstalled = true;
  return true;
}

/** The kafkajs Encoder methods a record batch is written with. */
interface ProtocolEncoder extends EncoderInternals {
  writeInt8(v: number): ProtocolEncoder;
  writeInt16(v: number): ProtocolEncoder;
  writeInt32(v: number): ProtocolEncoder;
  writeUInt32(v: number): ProtocolEncoder;
  writeInt64(v: unknown): ProtocolEncoder;
  writeArray(values: unknown[], type?: string): ProtocolEncoder;
  writeEncoder(value: EncoderInternals): ProtocolEncoder;
}

interface RecordBatchOptions {
  compression?: number;
  firstOffset?: unknown;
  firstTimestamp?: number;
  maxTimestamp?: number;
  partitionLeaderEpoch?: number;
  lastOffsetDelta?: number;
  transactional?: boolean;
  producerId?: unknown;
  producerEpoch?: number;
  firstSequence?: number;
  records?: unknown[];
}

/**
 * The record batch of a produce request, uncompressed. Why: kafkajs builds it by reading the
 * batch body's bytes for the checksum (one copy of every record) and the whole batch's bytes to
 * nest it (a second copy), before the request's own (a third). With the Encoder fix holding large
 * parts by reference, the checksum here goes over the body's parts one after the other and the
 * batch is nested by reference: one copy, the request's. The layout is Kafka's RecordBatch v2
 * (magic 2): FirstOffset int64, Length int32, PartitionLeaderEpoch int32, Magic int8, CRC uint32
 * (CRC-32C of everything after it), Attributes int16, LastOffsetDelta int32, FirstTimestamp int64,
 * MaxTimestamp int64, ProducerId int64, ProducerEpoch int16, FirstSequence int32, Records.
 * Compressed batches (gzip above 8 MiB, see compressionFor) stay kafkajs's. Same bytes
 * (kafkajs-fixes.test.ts; the broker checks every batch's CRC).
 */
export function installRecordBatchFix(): boolean {
  if (recordBatchInstalled) return true;
  if (!installEncoderFix()) return false;
  let mod: { RecordBatch: (o: RecordBatchOptions) => Promise<EncoderInternals> };
  let Encoder: new () => ProtocolEncoder;
  let Long: { fromInt(n: number): unknown; fromValue(n: number): unknown };
  try {
    mod = kafkajsRequire()('./src/protocol/recordBatch/v0/index.js') as typeof mod;
    Encoder = kafkajsRequire()('./src/protocol/encoder.js') as typeof Encoder;
    Long = kafkajsRequire()('./src/utils/long.js') as typeof Long;
  } catch {
    return false;
  }
  if (typeof mod?.RecordBatch !== 'function' || typeof Long?.fromValue !== 'function') return false;
  const kafkajsRecordBatch = mod.RecordBatch;
  const TRANSACTIONAL = 16;
  mod.RecordBatch = async (o: RecordBatchOptions) => {
    if ((o.compression ?? 0) !== 0) return kafkajsRecordBatch(o);
    const records = o.records ?? [];
    const body = new Encoder()
      .writeInt16(o.transactional ? TRANSACTIONAL : 0)
      .writeInt32(o.lastOffsetDelta ?? 0)
      .writeInt64(o.firstTimestamp ?? Date.now())
      .writeInt64(o.maxTimestamp ?? Date.now())
      .writeInt64(o.producerId ?? Long.fromValue(-1))
      .writeInt16(o.producerEpoch ?? 0)
      .writeInt32(o.firstSequence ?? 0);
    if (records.every((v) => typeof v === typeof records[0])) body.writeArray(records, typeof records[0]);
    else body.writeArray(records);
    const parts = [...(body.chunks ?? []), body.buf.subarray(0, body.offset)];
    const batch = new Encoder()
      .writeInt32(o.partitionLeaderEpoch ?? 0)
      .writeInt8(2)
      .writeUInt32(crc32cOfParts(parts))
      .writeEncoder(body);
    return new Encoder()
      .writeInt64(o.firstOffset ?? Long.fromInt(0))
      .writeInt32(batch.size())
      .writeEncoder(batch);
  };
  recordBatchInstalled = true;
  return true;
}

/** Quick retries of AddPartitionsToTxn refused with CONCURRENT_TRANSACTIONS before kafkajs's own retry takes over. */
export const CONCURRENT_TRANSACTIONS_RETRIES = 12;

/** The wait before quick retry `attempt` (0-based): 5, 10, 20, 40, then 50 ms; ~0.5 s in all. */
export function concurrentTransactionsBackoff(attempt: number): number {
  return Math.min(50, 5 * 2 ** attempt);
}

/**
 * Calls `send` (an AddPartitionsToTxn request) again while the coordinator answers
 * CONCURRENT_TRANSACTIONS, after the waits of concurrentTransactionsBackoff, up to
 * CONCURRENT_TRANSACTIONS_RETRIES times; any other error, or the last refusal, is thrown as it came.
 * `onRetry` counts the quick retries (tests, metrics).
 */
export async function retryConcurrentTransactions<T>(send: () => Promise<T>, sleep: (ms: number) => Promise<void>, onRetry: () => void = () => undefined): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await send();
    } catch (e) {
      if ((e as { type?: string } | null)?.type !== 'CONCURRENT_TRANSACTIONS' || attempt >= CONCURRENT_TRANSACTIONS_RETRIES) throw e;
      onRetry();
      await sleep(concurrentTransactionsBackoff(attempt));
    }
  }
}

let quickRetries = 0;
/** Quick retries of AddPartitionsToTxn in this process so far (see installTransactionRetryFix). */
export function concurrentTransactionsRetried(): number {
  return quickRetries;
}

/**
 * The wait between transactions. Why: a transaction's commit returns once the coordinator has
 * logged it, and the coordinator then writes its markers to every partition in it; a transaction
 * begun meanwhile by the same producer has its first AddPartitionsToTxn refused with
 * CONCURRENT_TRANSACTIONS until they are written (a few ms). Kafka's own Java producer retries that
 * after 20 ms; kafkajs lets the error reach its general retrier, which refreshes the metadata and
 * sends the whole produce again after 200 ms or more (the retry policy of createKafka). Detect
 * publishes every report in a transaction of its own, one after the other: on a local broker 200
 * back-to-back transactions took 23–36 s, 2.2–2.6 CPU s of the client's and 2.8–5.6 of the broker's;
 * with this fix 3.2–3.6 s, 1.2–1.3 and 2.0–2.4. Here the request alone is sent again, after 5, 10,
 * 20, 40 then 50 ms, for about half a second, before the error goes on to kafkajs as before.
 */
export function installTransactionRetryFix(): boolean {
  if (transactionRetryInstalled) return true;
  let Broker: { prototype: { addPartitionsToTxn(this: unknown, request: unknown): Promise<unknown> } };
  try {
    Broker = kafkajsRequire()('./src/broker/index.js') as typeof Broker;
  } catch {
    return false;
  }
  const kafkajsAddPartitionsToTxn = Broker.prototype?.addPartitionsToTxn;
  if (typeof kafkajsAddPartitionsToTxn !== 'function') return false;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  Broker.prototype.addPartitionsToTxn = function (request: unknown) {
    return retryConcurrentTransactions(() => kafkajsAddPartitionsToTxn.call(this, request), sleep, () => quickRetries++);
  };
  transactionRetryInstalled = true;
  return true;
}
