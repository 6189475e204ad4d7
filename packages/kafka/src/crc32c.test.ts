import { randomBytes } from 'node:crypto';
import { crc32c, crc32cJs, CRC32C_IMPLEMENTATION } from './crc32c';

// kafkajs's own implementation is the reference: the broker checks every batch against it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const reference = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;

describe.each([
  ['crc32c', crc32c],
  ['crc32cJs', crc32cJs],
])('%s', (_name, crc32c) => {
  it('gives the check value of CRC-32C', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('equals kafkajs on every length around the 8-byte steps and on large buffers', () => {
    for (let n = 0; n < 64; n++) {
      const b = randomBytes(n);
      expect(crc32c(b)).toBe(reference(b));
    }
    for (const n of [1000, 65_537, 1_048_583]) {
      const b = randomBytes(n);
      expect(crc32c(b)).toBe(reference(b));
    }
  });

  it('reads a Buffer that is a slice of a larger one from its own start', () => {
    const big = randomBytes(4096);
    const part = big.subarray(13, 4000);
    expect(crc32c(part)).toBe(reference(Buffer.from(part)));
  });
});

test('the native CRC-32C loads on this machine (@node-rs/crc32)', () => {
  expect(CRC32C_IMPLEMENTATION).toBe('native');
});
