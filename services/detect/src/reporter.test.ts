import type { Report } from '@dumpstream/report';
import { alertOf, faultRootsOf, MAX_TRIMMED_CHAINS, trimReport } from './reporter';

type Chain = Report['findings'][number]['chains'][number];

function chain(pid: number | null, image: string | null, reporters: number[]): Chain {
  return { root: { pid, image, present: image !== null, exceptionStack: null, faultingFrame: null, note: null }, reporters, length: reporters.length, evidence: reporters.map(() => []), conflicts: [] } as Chain;
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

describe('alertOf', () => {
  it('gives each original fault once, biggest first, with its pid, and says when it is not in the dump', () => {
    const notInDump = (pid: number, reporters: number[]): Chain => ({ ...chain(pid, null, reporters), root: { ...chain(pid, null, reporters).root, present: false } });
    const report = {
      dumpId: 'd',
      source: 's',
      host: null,
      findings: [
        {
          pattern: 'error-reporting-fault',
          severity: 'high',
          summary: 'x',
          werFaultProcesses: 9,
          chains: [chain(100, 'app.exe', [1, 2]), notInDump(163000, [3, 4]), notInDump(163000, [3, 5]), notInDump(163000, [3, 6]), chain(null, null, [8, 9])],
        },
      ],
    } as unknown as Report;
    const a = alertOf(report)!;
    expect(a.rootImages).toEqual(['pid 163000, not in the dump', 'app.exe', null]);
    expect(a.roots).toEqual([
      { pid: 163000, image: null, present: false, werFaults: 4, deepestChain: 2 },
      { pid: 100, image: 'app.exe', present: true, werFaults: 2, deepestChain: 2 },
      { pid: null, image: null, present: false, werFaults: 2, deepestChain: 2 },
    ]);
    expect(a.chainCount).toBe(5);
  });
});

describe('trimReport', () => {
  const frame = { module: 'nt', function: 'KiSwapContext', offset: '0x76', returnAddress: null, frameAddress: null, callSite: 'nt!KiSwapContext+0x76', raw: 'x', line: 1 };
  const proc = (pid: number, image: string) => ({ address: null, pid, parentPid: null, image, sessionId: 1, handleCount: null, commandLine: null, threads: [{ address: null, tid: 1, state: null, waitReason: null, waitMode: null, waitsOn: [], name: null, stackNotResident: false, frames: [frame, frame] }] });
  const report = {
    processes: [proc(100, 'app.exe'), proc(1, 'WerFault.exe'), proc(2, 'WerFault.exe'), ...Array.from({ length: 50 }, (_, i) => proc(1000 + i, 'svchost.exe'))],
    stacks: [{ pid: null, tid: null, processAddress: null, threadAddress: null, machine: null, elided: false, line: 9, frames: [frame] }],
    warnings: [],
    findings: [{ chains: [chain(100, 'app.exe', [1, 2])] }],
  } as unknown as Report;

  it('drops every frame first, and says how many', () => {
    const t = trimReport(report);
    expect(t.processes).toHaveLength(53);
    expect(t.processes.every((p) => p.threads.every((th) => th.frames.length === 0))).toBe(true);
    expect(t.stacks[0].frames).toEqual([]);
    expect(t.warnings.at(-1)).toMatchObject({ kind: 'report-trimmed', text: 'the report was too large for the reports topic: 107 frames left out (dumpstream analyze gives them all)' });
  });

  it('counts the frames a report was built without (too many to build) as left out', () => {
    const bare = trimReport(report);
    expect(trimReport(bare, 'frames', 5000).warnings.at(-1)?.text).toBe('the report was too large for the reports topic: 5000 frames left out (dumpstream analyze gives them all)');
  });

  it('then keeps only the processes its findings name', () => {
    const t = trimReport(report, 'findings');
    expect(t.processes.map((p) => p.pid)).toEqual([100, 1, 2]);
    expect(t.stacks).toEqual([]);
    expect(t.findings).toEqual(report.findings);
    expect(t.warnings.at(-1)?.text).toBe('the report was too large for the reports topic even without frames: only the 3 processes its findings name are listed; 50 processes, 1 stack, 107 frames left out (dumpstream analyze gives them all)');
  });

  it('keeps at most MAX_TRIMMED_CHAINS chains of a finding', () => {
    const storm = { ...report, findings: [{ chains: Array.from({ length: MAX_TRIMMED_CHAINS + 5 }, () => chain(100, 'app.exe', [1, 2])) }] } as unknown as Report;
    const t = trimReport(storm, 'findings');
    expect(t.findings[0].chains).toHaveLength(MAX_TRIMMED_CHAINS);
    expect(t.warnings.at(-1)?.text).toContain('107 frames and 5 chains left out');
  });
});
