import type { ThreadFact } from '@dumpstream/transcript';
import { StackTable } from './stacks';
import { ThreadTable } from './threads';

const fact = (waitsOn: ThreadFact['waitsOn'], extra: Partial<ThreadFact> = {}): ThreadFact => ({ line: 1, waitsOn, ...extra });

describe('ThreadTable', () => {
  it('gives back every wait address as it was written, whatever its form', () => {
    const addresses = ['fffffa8000000300', '0000000000000001', '7efdf000', '00000000', 'FFFFFA8000000300', 'fffffa80`00000300', 'abc', '', 'ffffffffffffffff', 'fffffa800000030g'];
    const table = new ThreadTable(new StackTable(), 1, 2);
    const t = table.add('ffffe00100000080', 1);
    table.merge(t, fact(addresses.map((address, i) => ({ address, type: i % 2 === 0 ? 'ProcessObject' : 'NotificationEvent' }))), undefined);
    expect(table.node(t).waitsOn).toEqual(addresses.map((address, i) => ({ address, type: i % 2 === 0 ? 'ProcessObject' : 'NotificationEvent' })));
  });

  it('keeps the first value of each field and adds later waits once each', () => {
    const table = new ThreadTable(new StackTable());
    const t = table.add(null, 7);
    table.merge(t, fact([{ address: '00000000000000a0', type: 'Event' }], { tid: 0x10, state: 'WAIT' }), 4);
    table.merge(t, fact([{ address: '00000000000000a0', type: 'Event' }, { address: '00000000000000b0', type: 'Mutant' }], { tid: 0x20, state: 'READY', name: 'main' }), 5);
    expect(table.node(t)).toEqual({
      address: null,
      tid: 0x10,
      pid: 4,
      state: 'WAIT',
      waitReason: null,
      waitMode: null,
      waitsOn: [
        { address: '00000000000000a0', type: 'Event' },
        { address: '00000000000000b0', type: 'Mutant' },
      ],
      index: null,
      name: 'main',
      stackNotResident: false,
      stack: null,
      line: 7,
    });
  });
});
