import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { contentCoding, decodedBody, formatBytes } from './body';
import { isIngestError } from './errors';

async function drain(body: AsyncIterable<Buffer>): Promise<{ bytes: number; error: string | null }> {
  let bytes = 0;
  try {
    for await (const c of body) bytes += c.length;
    return { bytes, error: null };
  } catch (e) {
    return { bytes, error: isIngestError(e) ? `${e.code}: ${e.message}` : String(e) };
  }
}

/** A stream of `n` chunks of `chunk`, counting how many were read. */
function counted(chunk: Buffer, n: number): { stream: Readable; read: () => number } {
  let i = 0;
  const stream = new Readable({
    read() {
      this.push(i++ < n ? chunk : null);
    },
  });
  return { stream, read: () => i };
}

describe('contentCoding', () => {
  it('reads identity and gzip', () => {
    expect(contentCoding(undefined)).toBe('identity');
    expect(contentCoding('identity')).toBe('identity');
    expect(contentCoding('GZIP')).toBe('gzip');
    expect(contentCoding('x-gzip')).toBe('gzip');
    expect(contentCoding('gzip, identity')).toBe('gzip');
  });

  it.each(['br', 'deflate', 'gzip, gzip', 'zstd'])('refuses %s', (h) => {
    expect(() => contentCoding(h)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ENCODING', status: 415 }));
  });
});

describe('decodedBody', () => {
  it('passes a body under the limit through, byte for byte', async () => {
    const text = Buffer.from('kd> !process 0 0\nPROCESS fffffa80`01234567\n'.repeat(1000));
    const out: Buffer[] = [];
    for await (const c of decodedBody(Readable.from([text.subarray(0, 100), text.subarray(100)]), 'identity', { maxBytes: text.length })) out.push(c);
    expect(Buffer.concat(out).equals(text)).toBe(true);
  });

  it('inflates gzip, also several members back to back', async () => {
    const a = Buffer.from('first member\n'.repeat(500));
    const b = Buffer.from('second member\n'.repeat(500));
    const out: Buffer[] = [];
    for await (const c of decodedBody(Readable.from([Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)])]), 'gzip', { maxBytes: 1e6 })) out.push(c);
    expect(Buffer.concat(out).toString()).toBe(a.toString() + b.toString());
  });

  it('stops a plain body one chunk past the limit, without reading the rest', async () => {
    const { stream, read } = counted(Buffer.alloc(64 * 1024, 'a'), 1000);
    const r = await drain(decodedBody(stream, 'identity', { maxBytes: 1024 * 1024 }));
    expect(r.error).toBe('TOO_LARGE: transcript larger than the limit of 1 MiB');
    expect(r.bytes).toBe(1024 * 1024);
    expect(read()).toBeLessThan(40); // the stream's own read-ahead, not the 1000 chunks
    expect(stream.destroyed).toBe(false); // left for the server to answer on
  });

  it('stops inflating a gzip bomb a little past the limit (1 GiB of text in 1 MiB)', async () => {
    const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024, 'x'), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => member)); // 1 GiB decompressed
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024);
    const { stream, read } = counted(member, 64);
    const started = Date.now();
    const r = await drain(decodedBody(stream, 'gzip', { maxBytes: 4 * 1024 * 1024 }));
    expect(r.error).toBe('TOO_LARGE: transcript larger than the limit of 4 MiB (decompressed)');
    expect(r.bytes).toBe(4 * 1024 * 1024);
    expect(read()).toBeLessThan(8); // of 64 members: one inflates past 4 MiB, plus the pipe's read-ahead
    expect(Date.now() - started).toBeLessThan(2000);
  });

  // Bad input on purpose.
  it('refuses gzip that is not gzip, and gzip cut short', async () => {
    expect((await drain(decodedBody(Readable.from([Buffer.from('plain text, said to be gzip\n')]), 'gzip', { maxBytes: 1e6 }))).error).toMatch(/^BAD_ENCODING: the body is not valid gzip \(incorrect header check\)$/);
    const cut = zlib.gzipSync(Buffer.from('some text\n'.repeat(1000))).subarray(0, 60);
    expect((await drain(decodedBody(Readable.from([cut]), 'gzip', { maxBytes: 1e6 }))).error).toBe('BAD_ENCODING: the body is not valid gzip (unexpected end of file)');
  });

  it('reports a source that breaks off as the client aborting', async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.from('kd> !process 0 0\n'));
    setTimeout(() => stream.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })), 10);
    expect((await drain(decodedBody(stream, 'identity', { maxBytes: 1e6 }))).error).toBe('CLIENT_ABORTED: the client disconnected before the end of the transcript');
    const zipped = new Readable({ read() {} });
    zipped.push(zlib.gzipSync(Buffer.from('x\n')).subarray(0, 12));
    setTimeout(() => zipped.destroy(), 10);
    expect((await drain(decodedBody(zipped, 'gzip', { maxBytes: 1e6 }))).error).toBe('CLIENT_ABORTED: the client disconnected before the end of the transcript');
  });

  it('gives up on a source that stalls', async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.from('kd> !process 0 0\n'));
    expect((await drain(decodedBody(stream, 'identity', { maxBytes: 1e6, idleMs: 50 }))).error).toBe('TIMEOUT: no data for 0.05 s: upload abandoned');
  });

  it('gives up on a trickle, counting only the time spent waiting for it', async () => {
    let n = 0;
    const trickle = new Readable({
      read() {
        setTimeout(() => this.push(n++ < 100 ? Buffer.from('x') : null), 10);
      },
    });
    const r = await drain(decodedBody(trickle, 'identity', { maxBytes: 1e6, minRate: { bytesPerSecond: 1000, afterMs: 100 } }));
    expect(r.error).toMatch(/^TIMEOUT: upload too slow: \d+ bytes\/s, below the minimum of 1000$/);
    // The same source is fine when the consumer, not the source, is slow.
    let m = 0;
    const quick = new Readable({
      read() {
        this.push(m++ < 20 ? Buffer.alloc(1000, 'x') : null);
      },
    });
    let bytes = 0;
    for await (const c of decodedBody(quick, 'identity', { maxBytes: 1e6, minRate: { bytesPerSecond: 1000, afterMs: 50 } })) {
      bytes += c.length;
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(bytes).toBe(20_000);
  });

  it('formats sizes for messages', () => {
    expect(formatBytes(4 * 1024 ** 3)).toBe('4 GiB');
    expect(formatBytes(1536 * 1024)).toBe('1.5 MiB');
    expect(formatBytes(1000)).toBe('1000 bytes');
  });
});
