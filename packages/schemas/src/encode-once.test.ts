import { encodeWire, messageType } from './registry';

// encodeWire encodes in one pass into a scratch buffer that grows (registry.ts); the bytes must be
// avsc's own, whatever the size of the message and the order of sizes.
const segment = (lines: number, width: number) => ({
  uploadId: 'u-1',
  source: 's.txt',
  host: null,
  receivedAt: 1,
  seq: 0,
  firstLine: 1,
  context: { mode: null, machine: null, implicitProcess: null, implicitThread: null, command: null, target: null, userPid: null, userThreadIndex: null, block: null, stack: null },
  lines: Array.from({ length: lines }, (_, i) => `${i} ${'x'.repeat(width)} é`),
  truncatedLines: [],
});

describe('encodeWire', () => {
  it('gives the bytes avsc gives, small, larger than the scratch buffer, then small again', () => {
    const type = messageType('Segment');
    for (const [lines, width] of [[1, 10], [2000, 100], [70_000, 300], [3, 5]]) {
      const wire = type.fromBuffer(type.toBuffer(type.clone(segment(lines, width), { wrapUnions: false })));
      expect(encodeWire('Segment', wire).equals(type.toBuffer(wire))).toBe(true);
    }
  });
});
