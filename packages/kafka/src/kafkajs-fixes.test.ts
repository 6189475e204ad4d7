import { installEncoderFix, installRequestQueueFix } from './kafkajs-fixes';

/* eslint-disable @typescript-eslint/no-require-imports */
const Encoder = require('kafkajs/src/protocol/encoder.js');
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js');

describe('kafkajs fixes', () => {
  it('the Encoder still writes the same bytes when it grows without zero-filling', () => {
    const big = Buffer.alloc(100_000, 7);
    const write = () => new Encoder().writeInt32(42).writeString('segments').writeBytes(big).writeVarIntString('k:1').writeInt8(-1).buffer as Buffer;
    const before = write();
    expect(installEncoderFix()).toBe(true);
    const after = write();
    expect(after.equals(before)).toBe(true);
    expect(after.length).toBe(4 + 2 + 8 + 4 + 100_000 + 1 + 3 + 1);
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
});
