import { DumpGraph, type ResolvedDump } from '@dumpstream/graph';
import { Segmenter } from '@dumpstream/transcript';
import type { Frame } from '@dumpstream/transcript';
import { detectErrorReportingFault, severityOf } from './errorReportingFault';
import { faultingFrameIndex } from './faultingFrame';

function dumpOf(...l: string[]): ResolvedDump {
  const g = new DumpGraph();
  const s = new Segmenter((_seg, f) => g.merge(f));
  s.push(l.join('\n') + '\n');
  s.end();
  return g.resolve();
}

/** A PROCESS block as `!process 0 0` prints it. */
function proc(addr: string, cid: number, parent: number, image: string): string[] {
  return [`PROCESS ${addr}`, `    SessionId: 1  Cid: ${cid.toString(16).padStart(4, '0')}    Peb: 7efdf000  ParentCid: ${parent.toString(16).padStart(4, '0')}`, `    Image: ${image}`, ''];
}

describe('Error Reporting Fault', () => {
  it('is not found when WerFault.exe only reports on ordinary processes', () => {
    const dump = dumpOf(...proc('fffffa8000000100', 0x100, 4, 'app.exe'), ...proc('fffffa8000000200', 0x200, 0x100, 'WerFault.exe'));
    expect(detectErrorReportingFault(dump)).toBeNull();
  });

  it('gives the root exception stack of the faulting thread when the transcript has it', () => {
    const dump = dumpOf(
      '0: kd> !process 0 ff',
      ...proc('fffffa8000000100', 0x100, 4, 'app.exe').slice(0, 3),
      '        THREAD fffffa8000001110  Cid 0100.0110  Teb: 000000007efdb000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable',
      '            fffffa8000000200  ProcessObject',
      '        ChildEBP RetAddr',
      '        000bf574 76bd80a4 kernel32!WaitForMultipleObjects+0x18',
      '        000bf5e0 76bd7f63 kernel32!WerpReportFaultInternal+0x186',
      '        000bf690 776674df kernel32!UnhandledExceptionFilter+0x1af',
      '        000bf7b4 000bf7c0 ntdll!KiUserExceptionDispatcher+0xf',
      '',
      ...proc('fffffa8000000200', 0x200, 0x100, 'WerFault.exe'),
      ...proc('fffffa8000000300', 0x300, 0x200, 'WerFault.exe'),
    );
    const f = detectErrorReportingFault(dump)!;
    expect(f.chains).toHaveLength(1);
    const c = f.chains[0];
    expect(c.reporters).toEqual([0x200, 0x300]);
    expect(c.evidence).toEqual([['waiting', 'parentage'], ['parentage']]);
    expect(c.root).toMatchObject({ pid: 0x100, image: 'app.exe', present: true, note: null });
    expect(c.root.exceptionStack!.map((x) => x.callSite)).toContain('ntdll!KiUserExceptionDispatcher+0xf');
    expect(f.severity).toBe('medium');
  });

  it('says the root stack was paged out rather than inventing one', () => {
    const dump = dumpOf(
      ...proc('fffffa8000000100', 0x100, 4, 'app.exe').slice(0, 3),
      '        THREAD fffffa8000001110  Cid 0100.0110  Teb: 000000007efdb000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable',
      '        Kernel stack not resident.',
      '',
      ...proc('fffffa8000000200', 0x200, 0x100, 'WerFault.exe'),
      ...proc('fffffa8000000300', 0x300, 0x200, 'WerFault.exe'),
    );
    const root = detectErrorReportingFault(dump)!.chains[0].root;
    expect(root.exceptionStack).toBeNull();
    expect(root.note).toMatch(/paged out/);
  });

  it('survives an evidence cycle: A reports on B, B on A', () => {
    const dump = dumpOf(...proc('fffffa8000000200', 0x200, 0x300, 'WerFault.exe'), ...proc('fffffa8000000300', 0x300, 0x200, 'WerFault.exe'));
    const f = detectErrorReportingFault(dump)!;
    expect(f.chains).toHaveLength(1);
    expect(f.chains[0].length).toBe(2);
    expect(f.chains[0].root.note).toMatch(/cycle/);
  });

  it('draws one chain per leaf of a branching storm', () => {
    const dump = dumpOf(
      ...proc('fffffa8000000100', 0x100, 4, 'app.exe'),
      ...proc('fffffa8000000200', 0x200, 0x100, 'WerFault.exe'),
      ...proc('fffffa8000000300', 0x300, 0x200, 'WerFault.exe'),
      ...proc('fffffa8000000400', 0x400, 0x200, 'WerFault.exe'),
      ...proc('fffffa8000000500', 0x500, 0x400, 'werfault.EXE'),
    );
    const f = detectErrorReportingFault(dump)!;
    expect(f.chains.map((c) => c.reporters)).toEqual([
      [0x200, 0x300],
      [0x200, 0x400, 0x500],
    ]);
    expect(f.werFaultProcesses).toBe(4);
    expect(f.severity).toBe('high');
  });

  it('grows severity with depth and with the number of WerFault.exe', () => {
    expect(severityOf(2, 2)).toBe('medium');
    expect(severityOf(3, 3)).toBe('high');
    expect(severityOf(2, 10)).toBe('high');
    expect(severityOf(5, 5)).toBe('critical');
    expect(severityOf(2, 5000)).toBe('critical');
  });
});

describe('the faulting frame', () => {
  const frame = (callSite: string, module: string | null = callSite.includes('!') ? callSite.split('!')[0] : null) =>
    ({ module, function: null, offset: null, returnAddress: null, frameAddress: null, callSite, raw: callSite, line: 1 }) as Frame;

  it('is the first frame past the exception dispatcher outside Windows and WER modules', () => {
    const frames = ['ntdll!ZwWaitForMultipleObjects+0xa', 'kernel32!WerpReportFaultInternal+0x215', 'kernel32!UnhandledExceptionFilter+0x1fc', 'ntdll!KiUserExceptionDispatcher+0x2e', 'app!Parse+0xe6', 'kernel32!BaseThreadInitThunk+0xd'].map((c) => frame(c));
    expect(faultingFrameIndex(frames)).toBe(4);
  });

  it('skips the C++ runtime that threw, and WOW64 names of system modules', () => {
    const frames = ['KERNELBASE!RaiseException+0x62', 'VCRUNTIME140!_CxxThrowException+0x66', 'ntdll_77d80000!RtlpCallVectoredHandlers+0x1', 'MyApp!Loader::Open+0x3f'].map((c) => frame(c));
    expect(faultingFrameIndex(frames)).toBe(3);
  });

  it('is none when the stack shows no exception dispatch', () => {
    expect(faultingFrameIndex(['ntdll!ZwWaitForSingleObject+0xa', 'app!Main+0x10'].map((c) => frame(c)))).toBeNull();
  });

  it('is none when every frame past the dispatcher is Windows own', () => {
    expect(faultingFrameIndex(['ntdll!KiUserExceptionDispatcher+0x2e', 'kernel32!BaseThreadInitThunk+0xd', 'ntdll!RtlUserThreadStart+0x1d'].map((c) => frame(c)))).toBeNull();
  });
});
