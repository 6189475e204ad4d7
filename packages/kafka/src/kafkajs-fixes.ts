/**
 * Two measured costs inside kafkajs 2.2.4, worked around from outside (the client stays kafkajs):
 *
 * - its request queue keeps a 1 ms timer running on every broker connection (installRequestQueueFix);
 * - its protocol Encoder grows by zero-filled allocations (installEncoderFix).
 */
import { createRequire } from 'node:module';

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
  ensureAvailable(length: number): void;
}

/**
 * The protocol Encoder's growth. Why: every produce request is built by nested Encoders (record,
 * batch, request), each growing its buffer by doubling with Buffer.alloc, which zero-fills memory
 * that is overwritten at once; in the CPU profiles of parse and detect under the fleet load the
 * Encoder's allocations and copies were 10–15 % of the samples. Here the buffer grows the same way,
 * without the zero-fill: only bytes up to `offset` are ever read (Encoder.buffer slices there).
 */
export function installEncoderFix(): boolean {
  if (encoderInstalled) return true;
  let Encoder: { prototype: EncoderInternals; nextPowerOfTwo(n: number): number };
  try {
    Encoder = kafkajsRequire()('./src/protocol/encoder.js') as typeof Encoder;
  } catch {
    return false;
  }
  if (typeof Encoder.prototype?.ensureAvailable !== 'function' || typeof Encoder.nextPowerOfTwo !== 'function') return false;
  Encoder.prototype.ensureAvailable = function (this: EncoderInternals, length: number) {
    if (this.offset + length <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  encoderInstalled = true;
  return true;
}
