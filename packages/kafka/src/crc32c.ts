/**
 * CRC-32C (Castagnoli), the checksum of every Kafka record batch, for kafkajs.
 *
 * Why: kafkajs checksums each batch it produces in JavaScript, one byte a step. Measured on 48 MB
 * (the small bench fleet's segments and facts, each checksummed once): kafkajs 120–145 ms, a
 * quarter of what the embedded `analyze` spends on the whole fleet; slicing-by-8 below 54–68 ms;
 * @node-rs/crc32 (SSE4.2/ARMv8 CRC instructions) 8 ms. The native one is used when it loads, the
 * JavaScript one otherwise. The client stays kafkajs; only its checksum module is swapped
 * (installFastCrc32c).
 */
import { createRequire } from 'node:module';

/** The native CRC-32C of @node-rs/crc32 (a prebuilt binary per platform), or null when it is missing. */
function loadNative(): ((b: Uint8Array, initial?: number) => number) | null {
  try {
    const { crc32c: native } = require('@node-rs/crc32') as { crc32c(input: Uint8Array, initialState?: number): number };
    // The check value, and that a CRC goes on from a previous one (crc32cOfParts).
    const ok = native(Buffer.from('123456789')) >>> 0 === 0xe3069283 && native(Buffer.from('56789'), native(Buffer.from('1234'))) >>> 0 === 0xe3069283;
    return ok ? native : null;
  } catch {
    return null;
  }
}
const NATIVE = loadNative();

const TABLES = makeTables();

function makeTables(): Int32Array[] {
  const t = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0][n] = c;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k][n] = (t[k - 1][n] >>> 8) ^ t[0][t[k - 1][n] & 0xff];
  return t;
}

/** CRC-32C of `buf`, unsigned: native when it loaded, else crc32cJs. */
export function crc32c(buf: Uint8Array): number {
  return NATIVE !== null ? NATIVE(buf) >>> 0 : crc32cJs(buf);
}

/** CRC-32C of the parts one after the other, as of their concatenation, without concatenating them. */
export function crc32cOfParts(parts: readonly Uint8Array[]): number {
  let crc = 0;
  for (const p of parts) crc = NATIVE !== null ? NATIVE(p, crc) >>> 0 : crc32cJs(p, crc);
  return crc;
}

/** Which implementation crc32c uses. */
export const CRC32C_IMPLEMENTATION: 'native' | 'javascript' = NATIVE !== null ? 'native' : 'javascript';

/** CRC-32C of `buf`, unsigned, in JavaScript: slicing-by-8; `initial`, the CRC of bytes before it. */
export function crc32cJs(buf: Uint8Array, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = ~initial;
  let i = 0;
  // Byte by byte up to a 4-byte boundary of the underlying memory, then two 32-bit words a step
  // through a Uint32Array view (little-endian, as every platform Node runs on).
  const lead = Math.min(buf.length, (4 - (buf.byteOffset & 3)) & 3);
  for (; i < lead; i++) crc = t0[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  const words = (buf.length - i) >>> 3;
  if (words > 0) {
    const w = new Uint32Array(buf.buffer, buf.byteOffset + i, words * 2);
    for (let j = 0; j < w.length; j += 2) {
      const a = crc ^ w[j];
      const b = w[j + 1];
      crc =
        t7[a & 0xff] ^
        t6[(a >>> 8) & 0xff] ^
        t5[(a >>> 16) & 0xff] ^
        t4[a >>> 24] ^
        t3[b & 0xff] ^
        t2[(b >>> 8) & 0xff] ^
        t1[(b >>> 16) & 0xff] ^
        t0[b >>> 24];
    }
    i += words * 8;
  }
  for (; i < buf.length; i++) crc = t0[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/**
 * Makes kafkajs use `crc32c` for the batches it produces: puts it in Node's module cache under
 * the path of kafkajs's own checksum module, which kafkajs loads lazily with its first produce
 * request. Returns false when that module was loaded already (kafkajs used before this was
 * called): then kafkajs keeps its own, slower but equal, checksum. Idempotent.
 */
export function installFastCrc32c(): boolean {
  const req = createRequire(require.resolve('kafkajs'));
  let path: string;
  try {
    path = req.resolve('./src/protocol/recordBatch/crc32C/index.js');
  } catch {
    return false; // another kafkajs layout: keep its own
  }
  const cached = req.cache[path];
  if (cached) return cached.exports === crc32c;
  const NodeModule = require('node:module') as new (id: string) => NodeJS.Module;
  const mod = new NodeModule(path);
  mod.filename = path;
  mod.loaded = true;
  mod.exports = crc32c;
  req.cache[path] = mod;
  return true;
}
