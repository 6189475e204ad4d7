import type { Report } from '@dumpstream/report';
import { faultRootsOf } from './reporter';

type Chain = Report['findings'][number]['chains'][number];

function chain(pid: number | null, image: string | null, reporters: number[]): Chain {
  return { root: { pid, image, present: image !== null, exceptionStack: null, note: null }, reporters, length: reporters.length, evidence: reporters.map(() => []), conflicts: [] } as Chain;
}

describe('faultRootsOf', () => {
  it('names each root process once, however many chains branch from it', () => {
    const report = {
      findings: [{ chains: [chain(100, 'app.exe', [1, 2]), chain(100, 'app.exe', [1, 3]), chain(200, 'app.exe', [4, 5]), chain(300, 'svc.exe', [6, 7]), chain(null, null, [8, 9])] }],
    } as unknown as Report;
    expect(faultRootsOf(report)).toEqual(['app.exe', 'app.exe', 'svc.exe', null]);
  });

  it('is empty for a report without findings', () => {
    expect(faultRootsOf({ findings: [] } as unknown as Report)).toEqual([]);
  });
});
