/**
 * decodeFactIdentities: the graph's first pass reads these instead of decoded facts, so over every
 * segment of the real transcripts they must be what decodeFacts gives of the same fields.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Segmenter, type Facts } from '@dumpstream/transcript';
import { decodeFactIdentities, decodeFacts, encodeFacts } from './index';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const FILES = [
  ...['corpus', 'formats'].flatMap((d) =>
    readdirSync(path.join(FIXTURES, d))
      .filter((f) => f.endsWith('.txt'))
      .map((f) => path.join(FIXTURES, d, f)),
  ),
  path.join(FIXTURES, 'seed-error-reporting-fault.txt'),
];

function identitiesOf(f: Facts) {
  return {
    processes: f.processes.map((p) => ({ ...(p.address !== undefined ? { address: p.address } : {}), ...(p.pid !== undefined ? { pid: p.pid } : {}), source: p.source })),
    threads: f.threads.map((t) => ({ ...(t.processAddress !== undefined ? { processAddress: t.processAddress } : {}), ...(t.pid !== undefined ? { pid: t.pid } : {}), waitsOn: t.waitsOn.length })),
    stacks: f.stacks.length,
  };
}

describe('decodeFactIdentities', () => {
  it('gives what decodeFacts gives of processes, threads and stacks, on every segment of the fixtures', () => {
    let segments = 0;
    for (const file of FILES) {
      const s = new Segmenter((_seg, facts) => {
        const bytes = encodeFacts({ ...facts, uploadId: 'u' });
        const ids = decodeFactIdentities(bytes);
        expect({ ...ids, threads: ids.threads.map((t) => ({ ...t, waitsOn: t.waitsOn.length })), stacks: ids.stacks.length }).toEqual(identitiesOf(decodeFacts(bytes)));
        segments++;
      }, { maxLines: 50 });
      s.push(readFileSync(file));
      s.end();
    }
    expect(segments).toBeGreaterThan(50);
  });

  it('refuses bytes that are not Facts with DECODE_FAILED', () => {
    expect(() => decodeFactIdentities(Buffer.from([0xff, 0xff, 0xff]))).toThrow(expect.objectContaining({ code: 'DECODE_FAILED' }));
  });
});
