import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Segmenter, type Facts } from '@dumpstream/transcript';
import { decodeIdentities, encodeIdentities } from './identities';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const FILES = [
  ...['corpus', 'formats'].flatMap((d) =>
    readdirSync(path.join(FIXTURES, d))
      .filter((f) => f.endsWith('.txt'))
      .map((f) => path.join(FIXTURES, d, f)),
  ),
  path.join(FIXTURES, 'seed-error-reporting-fault.txt'),
];

/** What the graph's first pass reads of facts, as plain values. */
function identitiesOf(f: Pick<Facts, 'processes' | 'threads'> & { stacks: { length: number } }) {
  return {
    processes: f.processes.map((p) => ({ ...(p.address !== undefined ? { address: p.address } : {}), ...(p.pid !== undefined ? { pid: p.pid } : {}), source: p.source })),
    threads: f.threads.map((t) => ({ ...(t.processAddress !== undefined ? { processAddress: t.processAddress } : {}), ...(t.pid !== undefined ? { pid: t.pid } : {}), waits: t.waitsOn.length })),
    stacks: f.stacks.length,
  };
}

describe('segment identities as bytes', () => {
  it('come back as the facts had them, on every segment of the fixtures', () => {
    let segments = 0;
    for (const file of FILES) {
      const s = new Segmenter(
        (_seg, facts) => {
          const bytes = encodeIdentities(facts);
          expect(bytes).not.toBeNull();
          const back = decodeIdentities(bytes!);
          expect(identitiesOf(back as never)).toEqual(identitiesOf(facts));
          segments++;
        },
        { maxLines: 50 },
      );
      s.push(readFileSync(file));
      s.end();
    }
    expect(segments).toBeGreaterThan(50);
  });

  it('keep any string and number exactly; a source outside the layout gives null (the caller decodes the facts)', () => {
    const facts = {
      segment: 0, firstLine: 1, lineCount: 0, unparsedLines: 0, warningCount: 0, commandLines: [], system: [], warnings: [],
      processes: [{ line: 1, address: 'caf\u00e9 \u4e2d', pid: 2 ** 40 + 1, source: 'context' as const }, { line: 2, source: 'user-process' as const }],
      threads: [{ line: 3, waitsOn: [{ address: 'a', type: 'Event' }, { address: 'b', type: 'Event' }], processAddress: '', pid: 0 }, { line: 4, waitsOn: [] }],
      stacks: [],
    } as Facts;
    expect(identitiesOf(decodeIdentities(encodeIdentities(facts)!) as never)).toEqual(identitiesOf(facts));
    expect(encodeIdentities({ ...facts, processes: [{ line: 1, source: 'elsewhere' as never }] })).toBeNull();
  });
});
