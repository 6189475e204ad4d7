import { initialContext } from './context';
import type { Facts } from './facts';
import { parseLines } from './parser';
import { parseSegment, Segmenter, type Segment } from './segmenter';
import { readStackFrames } from './stacks';

/** Parses a snippet as a whole transcript (through the segmenter, as the pipeline does). */
function parse(text: string | Buffer, maxLines?: number): Facts {
  const all: Facts[] = [];
  const s = new Segmenter((_seg, f) => all.push(f), maxLines ? { maxLines, hardMaxLines: maxLines } : {});
  s.push(text);
  s.end();
  return {
    segment: 0,
    firstLine: 1,
    lineCount: all.reduce((n, f) => n + f.lineCount, 0),
    unparsedLines: all.reduce((n, f) => n + f.unparsedLines, 0),
    warningCount: all.reduce((n, f) => n + f.warningCount, 0),
    processes: all.flatMap((f) => f.processes),
    threads: all.flatMap((f) => f.threads),
    stacks: all.flatMap((f) => f.stacks),
    commandLines: all.flatMap((f) => f.commandLines),
    system: all.flatMap((f) => f.system),
    warnings: all.flatMap((f) => f.warnings),
    ...(all.some((f) => f.unparsed) ? { unparsed: all.flatMap((f) => f.unparsed ?? []) } : {}),
  };
}

const lines = (...l: string[]) => l.join('\n') + '\n';

describe('prompts and commands', () => {
  it('reads kernel, user, WOW64 and glued prompts', () => {
    const f = parse(lines('0:000>0: kd> .process /r /p fffffa80`75c21b30', '1: kd:x86> k', 'ChildEBP          RetAddr', '000bf474 77080bdd ntdll!ZwWaitForMultipleObjects+0x15'));
    expect(f.stacks).toHaveLength(1);
    expect(f.stacks[0].machine).toBe('x86');
    expect(f.stacks[0].owner).toEqual({ processAddress: 'fffffa8075c21b30' });
    expect(f.unparsedLines).toBe(0);
  });

  it('attributes stacks after .thread /w and Implicit … is now lines', () => {
    const f = parse(
      lines('0: kd> .thread /w fffffa807c183b60', 'Implicit thread is now fffffa80`7c183b60', 'x86 context set', '0: kd:x86> k', '000bf474 77080bdd ntdll!ZwWaitForMultipleObjects+0x15', '000bf510 76bb1a2c KERNELBASE!WaitForMultipleObjectsEx+0x100'),
    );
    expect(f.stacks[0].owner.threadAddress).toBe('fffffa807c183b60');
    expect(readStackFrames(f.stacks[0])).toHaveLength(2);
  });

  it('takes !process 0n<decimal> and Searching for Process as the target of a command line', () => {
    const f = parse(lines('0: kd> !process 0n189240', 'Searching for Process with Cid == 2e338', 'CommandLine:  \'C:\\Windows\\System32\\WerFault.exe -u -p 1 -s 2\''));
    expect(f.commandLines[0].owner).toEqual({ pid: 0x2e338 });
  });

  it('reads the two-part prompts of kd in a WOW64 context: 32.kd:x86> and 32.0: kd:x86>', () => {
    for (const prompt of ['32.kd:x86> k', '32.0: kd:x86> k']) {
      const f = parse(lines(prompt, 'ChildEBP RetAddr', '0012f000 77000000 ntdll!Foo+0x1'));
      expect(f.system).toContainEqual({ line: 1, field: 'mode', value: 'kernel' });
      expect(f.stacks[0].machine).toBe('x86');
      expect(f.unparsedLines).toBe(0);
    }
    // A `!stacks` row starts with digits and a dot too; it is not a prompt.
    expect(parse(lines('   4.000008  827d0030  Blocked    ntoskrnl!KiSwapThread+0xc5')).system).toEqual([]);
  });

  it('keeps a stack going over the symbol loader and unwind warnings', () => {
    const f = parse(
      lines(
        'ChildEBP RetAddr  Args to Child',
        '019cfbac 7af29c5f 586d2e37 ffffffff 01f4cdac qt5core!QConfFileSettingsPrivate::sync+0x64',
        'Unable to load image C:\\Program Files (x86)\\fastapp\\fastapp.exe, Win32 error 0n2',
        '*** WARNING: Unable to verify timestamp for fastapp.exe',
        '*** ERROR: Module load completed but symbols could not be loaded for fastapp.exe',
        'WARNING: Stack unwind information not available. Following frames may be wrong.',
        '019cfbd8 00c0a5dc 01f4cda0 019cfc34 00bf89db fastapp+0x1a5dc',
        '019cfbe4 00bf89db 00000000 012c975e 012c9740 0xbf89db',
      ),
    );
    expect(f.stacks).toHaveLength(1);
    expect(readStackFrames(f.stacks[0]).map((x) => x.callSite)).toEqual(['qt5core!QConfFileSettingsPrivate::sync+0x64', 'fastapp+0x1a5dc', '0xbf89db']);
    expect(f.unparsedLines).toBe(0);
  });

  it('treats .effmach as a machine change', () => {
    const f = parse(lines('0: kd> .effmach x86', 'Effective machine: x86 compatible (x86)', 'ChildEBP RetAddr', '0012f000 77000000 ntdll!Foo+0x1'));
    expect(f.stacks[0].machine).toBe('x86');
  });
});

describe('process blocks', () => {
  it('reads modern blocks with SessionId none and HandleCount not accessible', () => {
    const f = parse(
      lines('PROCESS ffffe000002287c0', '    SessionId: none  Cid: 0004    Peb: 00000000  ParentCid: 0000', '    DirBase: 001aa000  ObjectTable: ffffc00000003000  HandleCount: <Data Not Accessible>', '    Image: System'),
    );
    expect(f.processes[0]).toMatchObject({ address: 'ffffe000002287c0', sessionId: null, pid: 4, parentPid: 0, handleCount: null, image: 'System' });
  });

  it('reads NT 4 blocks on one line with TableSize', () => {
    const f = parse(lines('PROCESS 80986f40  Cid: 0012    Peb: 7ffde000  ParentCid: 0002', '    DirBase: 000bd605  ObjectTable: 8098fce8  TableSize:  38.', '    Image: smss.exe'));
    expect(f.processes[0]).toMatchObject({ address: '80986f40', pid: 0x12, parentPid: 2, handleCount: 38, image: 'smss.exe' });
  });

  it('keeps the detail lines of !process … 7', () => {
    const f = parse(lines('PROCESS fb667a00 Cid: 0002  Peb: 00000000 ParentCid: 0000', '  Image: System', '  ElapsedTime            15:06:36.0338', '  CommitCharge           8'));
    expect(f.processes[0].details).toMatchObject({ ElapsedTime: '15:06:36.0338', CommitCharge: '8' });
  });

  it('warns about a Cid it cannot read instead of inventing one', () => {
    const f = parse(lines('PROCESS fb667a00', '    SessionId: 0  Cid: 0x1234567890123456789012345678901234567890    Peb: 0  ParentCid: zz', '    Image: a.exe'));
    expect(f.processes[0].pid).toBeUndefined();
    expect(f.warnings.map((w) => w.kind)).toEqual(['bad-number', 'bad-number']);
  });
});

describe('process blocks read from the bytes of the chunks', () => {
  // The recognisers of a listing read the chunk's bytes when they mirror the line (ASCII, no
  // character to clean), else a copy: the facts must not depend on which, nor on where chunks end.
  const listing = lines(
    '0: kd> !process 0 0',
    '**** NT ACTIVE PROCESS DUMP ****',
    'PROCESS FFFFE000`002287C0',
    '    SessionId: none  Cid: 0x1dc    Peb: 0000007e`fdf00000  ParentCid: 0000',
    '    DirBase: 001aa000  ObjectTable: ffffc00000003000  HandleCount: <Data Not Accessible>',
    '    Image: System',
    '',
    'PROCESS 80986f40  Cid: 0012    Peb: 7ffde000  ParentCid: 0002',
    '    DirBase: 000bd605  ObjectTable: 8098fce8  TableSize:  38.',
    '    Image:   my tool.exe  ',
    '',
    'PROCESS ffffd58b538875b0',
    '    HandleCount: 54.  SessionId: 1  Cid: 359b0\tPeb: b3a3d1e000  ParentCid: 32a9c',
    '    SessionId: 2  Cid: 1  Cid:: 3  Peb: zz  ParentCid: 0x123456789  HandleCount: 5.4',
    '    DirBase: 3a7da0000  ObjectTable: 0  HandleCount:  32..',
    '    Image: caf\u00e9.exe',
    'PROCESS 0x00000000`00001234 Cid: 5',
    '    SessionId:',
    '    Image: WerFault.exe',
  );
  const bytes = Buffer.from(listing, 'utf8');

  function parseChunks(size: number): Facts {
    const all: Facts[] = [];
    const s = new Segmenter((_seg, f) => all.push(f));
    for (let i = 0; i < bytes.length; i += size) s.push(bytes.subarray(i, i + size));
    s.end();
    return { ...all[0], processes: all.flatMap((f) => f.processes), warnings: all.flatMap((f) => f.warnings) };
  }

  it('reads them as from decoded text, wherever the chunks end', () => {
    const text = parse(listing);
    expect(text.processes.map((p) => [p.address, p.pid, p.parentPid, p.sessionId, p.peb, p.objectTable, p.handleCount, p.image])).toEqual([
      ['ffffe000002287c0', 0x1dc, 0, null, '7efdf00000', 'ffffc00000003000', null, 'System'],
      ['80986f40', 0x12, 2, undefined, '7ffde000', '8098fce8', 38, 'my tool.exe'],
      ['ffffd58b538875b0', 0x359b0, 0x32a9c, 1, 'b3a3d1e000', '0', 54, 'caf\u00e9.exe'],
      ['1234', 5, undefined, undefined, undefined, undefined, undefined, 'WerFault.exe'],
    ]);
    // Whole, the chunk is not ASCII (the é): cut in pieces, most are, and their lines are mirrored.
    for (const size of [bytes.length, 400, 97, 13, 1]) {
      const f = parseChunks(size);
      expect(f.processes).toEqual(text.processes);
      expect(f.warnings).toEqual(text.warnings);
    }
  });
});

describe('a PROCESS header wrapped after its keyword', () => {
  const text = lines('kd> !process 0 0', 'PROCESS', '89c8a830', '        SessionId: 0  Cid: 0174    Peb: 7ffde000  ParentCid: 0004', '    DirBase: 0aec0020  ObjectTable: e144ed18  HandleCount:  21.', '    Image: smss.exe');
  it('opens the process at the address on the next line', () => {
    const f = parse(text);
    expect(f.processes).toEqual([expect.objectContaining({ address: '89c8a830', pid: 0x174, parentPid: 4, image: 'smss.exe' })]);
    expect(f.unparsedLines).toBe(0);
  });
  it('does not take a lone address anywhere else for a process', () => {
    expect(parse(lines('kd> dd 0', '89c8a830')).processes).toEqual([]);
    expect(parse(lines('PROCESS', '', '89c8a830')).processes).toEqual([]);
  });
});

describe('threads', () => {
  it('reads wait state, reason, mode and wait objects', () => {
    const f = parse(
      lines(
        '        THREAD ffffe001d173e840  Cid 10f0.1dac  Teb: 000000ee6cf8b000 Win32Thread: ffffe001d1118cf0 WAIT: (UserRequest) UserMode Non-Alertable',
        '            ffffe001d16c4dd0  NotificationEvent',
        '            ffffe001d08b0840  ProcessObject',
        '            ffffe00000cf6870  Semaphore Limit 0xffff',
        '        Not impersonating',
      ),
    );
    expect(f.threads[0]).toMatchObject({ address: 'ffffe001d173e840', pid: 0x10f0, tid: 0x1dac, state: 'WAIT', waitReason: 'UserRequest', waitMode: 'UserMode' });
    expect(f.threads[0].waitsOn.map((w) => w.type)).toEqual(['NotificationEvent', 'ProcessObject', 'Semaphore']);
  });

  it('reads RUNNING on processor and a wait reason wrapped onto the next line', () => {
    const f = parse(lines('THREAD ffffe001cdeae840  Cid 10f0.0298  Teb: 000000ee6cf97000 Win32Thread: 0000000000000000 RUNNING on processor 2', 'THREAD 88b9fcb0  Cid 1548.16e4  Teb: 7ffac000 Win32Thread: fe288838 WAIT:', '(Executive) KernelMode Non-Alertable', '    850a5f88  NotificationEvent'));
    expect(f.threads[0]).toMatchObject({ state: 'RUNNING', processor: 2 });
    expect(f.threads[1]).toMatchObject({ state: 'WAIT', waitReason: 'Executive', waitMode: 'KernelMode' });
    expect(f.threads[1].waitsOn).toEqual([{ address: '850a5f88', type: 'NotificationEvent' }]);
  });

  it('marks Kernel stack not resident', () => {
    const f = parse(lines('THREAD ffffe001d115c080  Cid 10f0.15b4  Teb: 000000ee6cf9b000 Win32Thread: 0000000000000000 WAIT: (WrQueue) UserMode Alertable', '    ffffe001d0bf0640  QueueObject', '    Kernel stack not resident.'));
    expect(f.threads[0].stackNotResident).toBe(true);
  });

  it('links !process X ff threads to X when the PROCESS block was not printed', () => {
    const f = parse(lines('0: kd> !process fffffa8075c21b30 ff', 'THREAD fffffa807c183b60 Cid 2d3c8.4334c Teb: 000000007efdb000 Win32Thread: fffff900c3f71010 WAIT: (UserRequest) UserMode Non-Alertable', "CommandLine:  'C:\\Windows\\SysWOW64\\WerFault.exe -u -p 189240 -s 3888\u2032"));
    expect(f.processes).toContainEqual(expect.objectContaining({ address: 'fffffa8075c21b30', pid: 0x2d3c8 }));
    expect(f.commandLines[0]).toMatchObject({ commandLine: 'C:\\Windows\\SysWOW64\\WerFault.exe -u -p 189240 -s 3888', imageFile: 'WerFault.exe' });
    expect(f.commandLines[0].owner.processAddress).toBe('fffffa8075c21b30');
  });

  it('reads user-mode ~ headers with names and the current-thread marks', () => {
    const f = parse(lines('0:004> ~', '   0  Id: 722c.206c Suspend: 1 Teb: 0000004e`3b1bc000 Unfrozen "main"', '.  4  Id: 722c.31fc Suspend: 1 Teb: 0000004e`3b1c4000 Unfrozen "thread1"', '#  1  Id: 1dc.1b0 Suspend: 1 Teb: 7efd8000 Unfrozen'));
    expect(f.threads.map((t) => [t.pid, t.tid, t.index, t.name])).toEqual([
      [0x722c, 0x206c, 0, 'main'],
      [0x722c, 0x31fc, 4, 'thread1'],
      [0x1dc, 0x1b0, 1, undefined],
    ]);
  });
});

describe('stacks', () => {
  const cases: [string, string[], { callSite: string; module: string | null; function: string | null; offset: string | null; frameAddress: string | null; returnAddress: string | null }][] = [
    ['x86 ChildEBP', ['ChildEBP RetAddr', '000bf5e0 76bd7f63 kernel32!WerpReportFaultInternal+0x186'], { callSite: 'kernel32!WerpReportFaultInternal+0x186', module: 'kernel32', function: 'WerpReportFaultInternal', offset: '0x186', frameAddress: 'bf5e0', returnAddress: '76bd7f63' }],
    ['x86 kv with FPO', ['ChildEBP RetAddr  Args to Child', '001df3b8 77299bca 001df498 00000001 00000001 KERNEL32!WerpReportFaultInternal+0x186 (FPO: [Non-Fpo])'], { callSite: 'KERNEL32!WerpReportFaultInternal+0x186', module: 'KERNEL32', function: 'WerpReportFaultInternal', offset: '0x186', frameAddress: '1df3b8', returnAddress: '77299bca' }],
    ['x86 TrapFrame', ['ChildEBP RetAddr  Args to Child', '8b487d44 779b5e74 041cf1f8 00100000 041cf1bc nt!KiFastCallEntry+0x12a (FPO: [0,3] TrapFrame @ 8b487d64)'], { callSite: 'nt!KiFastCallEntry+0x12a', module: 'nt', function: 'KiFastCallEntry', offset: '0x12a', frameAddress: '8b487d44', returnAddress: '779b5e74' }],
    ['x64 kn', ['# Child-SP          RetAddr           Call Site', '00 00000000`0010f8b8 000007fe`fd6e10ac ntdll!ZwWaitForSingleObject+0xa'], { callSite: 'ntdll!ZwWaitForSingleObject+0xa', module: 'ntdll', function: 'ZwWaitForSingleObject', offset: '0xa', frameAddress: '10f8b8', returnAddress: '7fefd6e10ac' }],
    ['x64 with args', ['Child-SP          RetAddr               : Args to Child                                                           : Call Site', 'ffffc10f`7221f0a0 fffff807`1e2349c0     : ffffb000`adde7180 00000000`ffffffff ffffc10f`7221f220 ffffc509`bf28b700 : nt!KiSwapContext+0x76'], { callSite: 'nt!KiSwapContext+0x76', module: 'nt', function: 'KiSwapContext', offset: '0x76', frameAddress: 'ffffc10f7221f0a0', returnAddress: 'fffff8071e2349c0' }],
    ['x64 kb without Child-SP', ['# RetAddr           : Args to Child                                                           : Call Site', '01 fffff800`7a0fb2c3 : 00000000`00000000 ffffe001`d122bb10 ffffe001`ceb81750 ffffe001`d173f058 : portcls!CPortPinWaveRT::Init+0x2e7'], { callSite: 'portcls!CPortPinWaveRT::Init+0x2e7', module: 'portcls', function: 'CPortPinWaveRT::Init', offset: '0x2e7', frameAddress: null, returnAddress: 'fffff8007a0fb2c3' }],
    ['source suffix', ['Child-SP          RetAddr           Call Site', 'ffff808d`dffdf0e0 fffff807`4e631f39 SIoctl!SioctlDeviceControl+0x109 [C:\\sioctl.c @ 310] '], { callSite: 'SIoctl!SioctlDeviceControl+0x109', module: 'SIoctl', function: 'SioctlDeviceControl', offset: '0x109', frameAddress: 'ffff808ddffdf0e0', returnAddress: 'fffff8074e631f39' }],
    ['bare address', ['ChildEBP          RetAddr', '000bfb00 77629ef2 0xbf7c0'], { callSite: '0xbf7c0', module: null, function: null, offset: null, frameAddress: 'bfb00', returnAddress: '77629ef2' }],
    ['module+offset, no symbols', ['ChildEBP RetAddr  Args to Child', '8b4877a8 8f8a54ac 00000000 8afac4a0 00000002 SRTSP+0x3423'], { callSite: 'SRTSP+0x3423', module: 'SRTSP', function: null, offset: '0x3423', frameAddress: '8b4877a8', returnAddress: '8f8a54ac' }],
    ['inline frame', [' # Child-SP          RetAddr               Call Site', '0d (Inline Function) --------`--------     stack_overflow!invoke_main+0x22 [D:\\exe_common.inl @ 78] '], { callSite: 'stack_overflow!invoke_main+0x22', module: 'stack_overflow', function: 'invoke_main', offset: '0x22', frameAddress: null, returnAddress: null }],
    ['bare module at offset 0, no symbols', ['ChildEBP RetAddr  Args to Child', 'ba50bc74 990c851f 862ecc08 e13cf65c ba50bd54 PROCMON13'], { callSite: 'PROCMON13', module: 'PROCMON13', function: null, offset: null, frameAddress: 'ba50bc74', returnAddress: '990c851f' }],
    ['kv inline frame, dashes in every column', ['ChildEBP RetAddr  Args to Child', '(Inline) -------- -------- -------- -------- fastapp!std::_Destroy_in_place+0xb [D:\\xmemory @ 311]'], { callSite: 'fastapp!std::_Destroy_in_place+0xb', module: 'fastapp', function: 'std::_Destroy_in_place', offset: '0xb', frameAddress: null, returnAddress: null }],
    ['kvn inline frame with (Inline Function @ …)', [' # ChildEBP RetAddr  Args to Child', '04 (Inline) -------- -------- -------- -------- App!invoke_main+0x1c (Inline Function @ 009c12cb) (CONV: cdecl) [d:\\exe_common.inl @ 78] '], { callSite: 'App!invoke_main+0x1c', module: 'App', function: 'invoke_main', offset: '0x1c', frameAddress: null, returnAddress: null }],
    ['odd symbol with spaces', ['Child-SP RetAddr  : Args to Child               : Call Site', "0008f5b0 775b2ace : 00000000`0008f670 00000000`00000000 : ntdll! ?? ::FNODOBFM::`string'+0x2af20"], { callSite: "ntdll! ?? ::FNODOBFM::`string'+0x2af20", module: 'ntdll', function: " ?? ::FNODOBFM::`string'", offset: '0x2af20', frameAddress: '8f5b0', returnAddress: '775b2ace' }],
  ];
  it.each(cases)('%s', (_n, text, want) => {
    const f = parse(lines(...text));
    expect(f.stacks).toHaveLength(1);
    expect(readStackFrames(f.stacks[0])).toHaveLength(1);
    expect(readStackFrames(f.stacks[0])[0]).toMatchObject(want);
    expect(f.unparsedLines).toBe(0);
  });

  it('keeps a stack going over warnings, elisions and wrapped source lines', () => {
    const f = parse(
      lines(
        'ChildEBP RetAddr',
        '000bf7b4 000bf7c0 ntdll!KiUserExceptionDispatcher+0xf',
        'WARNING: Frame IP not in any known module. Following frames may be wrong.',
        '000bfb00 77629ef2 0xbf7c0',
        '...',
        '001dfa90 010d19af CrashOnServer!main+0x2e (FPO: [Non-Fpo]) (CONV: cdecl)',
        '    [c:\\crashonserver.cpp @ 13]',
        '001dfae0 010d17df CrashOnServer!__tmainCRTStartup+0x1bf',
        '',
        'not a frame',
      ),
    );
    expect(f.stacks).toHaveLength(1);
    expect(readStackFrames(f.stacks[0]).map((x) => x.callSite)).toEqual(['ntdll!KiUserExceptionDispatcher+0xf', '0xbf7c0', 'CrashOnServer!main+0x2e', 'CrashOnServer!__tmainCRTStartup+0x1bf']);
    expect(f.stacks[0].elided).toBe(true);
    expect(f.unparsedLines).toBe(1);
  });

  it('recognises a pasted stack whose header was cut off', () => {
    const f = parse(lines('some prose', '000bf474 77080bdd ntdll!ZwWaitForMultipleObjects+0x15', '000bf510 76bb1a2c KERNELBASE!WaitForMultipleObjectsEx+0x100'));
    expect(f.stacks).toHaveLength(1);
    expect(readStackFrames(f.stacks[0])).toHaveLength(2);
  });

  it('continues one stack across segments cut inside it', () => {
    const frames = Array.from({ length: 50 }, (_, i) => `${(0x1000 + i * 16).toString(16).padStart(8, '0')} 77000000 mod!fn${i}+0x1`);
    const f = parse(lines('0: kd> k', 'ChildEBP RetAddr', ...frames), 7);
    const ids = new Set(f.stacks.map((s) => s.line));
    expect(ids).toEqual(new Set([2]));
    expect(f.stacks.flatMap((s) => readStackFrames(s))).toHaveLength(50);
  });
});

describe('tolerance', () => {
  it('survives a BOM, CRLF, tabs, HTML tags, entities and typographic quotes', () => {
    const text =
      '\ufeff<span style="color: #ff0000;">0: kd&gt; !process 0 0</span>\r\n' +
      'PROCESS\tfffffa8058010380\r\n' +
      '    SessionId: 2  Cid: 488f0    Peb: 7efdf000  ParentCid: 27cb8\r\n' +
      '    Image: WerFault.exe\r\n' +
      "CommandLine:  \u2018C:\\Windows\\SysWOW64\\WerFault.exe -u -p 189240 -s 3888\u2032\r\n";
    const f = parse(text);
    expect(f.processes[0]).toMatchObject({ address: 'fffffa8058010380', pid: 0x488f0, parentPid: 0x27cb8, image: 'WerFault.exe' });
    expect(f.commandLines[0].commandLine).toBe('C:\\Windows\\SysWOW64\\WerFault.exe -u -p 189240 -s 3888');
  });

  it('reads UTF-16LE logs (.logopen /u)', () => {
    const f = parse(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('PROCESS 80986f40  Cid: 0012    Peb: 7ffde000  ParentCid: 0002\r\n    Image: smss.exe\r\n', 'utf16le')]));
    expect(f.processes[0]).toMatchObject({ pid: 0x12, image: 'smss.exe' });
  });

  it('cuts very long lines and says so', () => {
    const f = parse('x'.repeat(200_000) + '\nPROCESS 80986f40  Cid: 0012    Peb: 7ffde000  ParentCid: 0002\n');
    expect(f.warnings[0]).toMatchObject({ line: 1, kind: 'truncated-line' });
    expect(f.processes[0].pid).toBe(0x12);
  });

  it('says so also when the long line comes over many chunks, and when it is the last line, with no newline', () => {
    const all: Facts[] = [];
    const s = new Segmenter((_seg, f) => all.push(f));
    s.push('PROCESS 80986f40  Cid: 0012    Peb: 7ffde000  ParentCid: 0002\n');
    for (let i = 0; i < 50; i++) s.push('y'.repeat(10_000));
    s.push('\nPROCESS 80986f80  Cid: 0016    Peb: 7ffde000  ParentCid: 0002\n');
    for (let i = 0; i < 50; i++) s.push('z'.repeat(10_000));
    s.end();
    expect(all.flatMap((f) => f.warnings).map((w) => [w.line, w.kind])).toEqual([
      [2, 'truncated-line'],
      [4, 'truncated-line'],
    ]);
    expect(all.flatMap((f) => f.processes).map((p) => p.pid)).toEqual([0x12, 0x16]);
  });

  it('says so also when the segment is parsed on its own (a parse worker), from the lines it carries', () => {
    const pieces: [Segment, Facts][] = [];
    const s = new Segmenter((seg, f) => pieces.push([seg, f]), { keepLines: true, maxLines: 2, hardMaxLines: 2 });
    s.push('PROCESS 80986f40  Cid: 0012    Peb: 7ffde000  ParentCid: 0002\n');
    for (let i = 0; i < 10; i++) s.push('y'.repeat(10_000));
    s.push('\nPROCESS 80986f80  Cid: 0016    Peb: 7ffde000  ParentCid: 0002\n');
    s.end();
    expect(pieces.flatMap(([seg]) => seg.truncatedLines)).toEqual([2]);
    for (const [seg, f] of pieces) expect(parseSegment(seg)).toEqual(f);
    expect(pieces.flatMap(([, f]) => f.warnings).map((w) => w.kind)).toEqual(['truncated-line']);
  });

  it('counts lines it does not know, and never throws on them', () => {
    const f = parse(lines('Original process:', 'lm', 'start             end                 module name'));
    expect(f.unparsedLines).toBe(3);
    expect(f.unparsed).toEqual([
      { line: 1, text: 'Original process:' },
      { line: 2, text: 'lm' },
      { line: 3, text: 'start             end                 module name' },
    ]);
  });

  it('does not count known output without facts (PEB, TEB, registers, symbol loading) as not understood', () => {
    const f = parse(
      lines(
        '0:000> !peb',
        'PEB at 000007fffffdb000',
        '    InheritedAddressSpace:    No',
        '    Ldr.InLoadOrderModuleList:           00000000003c2ba0 . 00000000003c3e30',
        '            Base TimeStamp                     Module',
        '            ff290000 4a5bc5d1 Jul 14 03:20:49 2009 C:\\Windows\\system32\\net1.exe',
        '    Environment:  00000000003c1320',
        '        ALLUSERSPROFILE=C:\\ProgramData',
        'Loading User Symbols',
        '...............................',
        'rax=00000000001ff3f0 rbx=0000000000000002 rcx=000007fefd8a16aa',
        'cs=0033  ss=002b  ds=002b  es=002b  fs=0053  gs=002b             efl=00000246',
        'x86 context set',
      ),
    );
    expect(f.unparsed).toBeUndefined();
    expect(f.unparsedLines).toBe(0);
  });

  it('keeps a sample of the first unparsed lines, cut to a bounded length, and counts them all', () => {
    const many = Array.from({ length: 150 }, (_, i) => `mystery line ${i}`);
    const f = parse(lines(...many, 'x'.repeat(1000)));
    expect(f.unparsedLines).toBe(151);
    expect(f.unparsed).toHaveLength(100);
    expect(f.unparsed![99]).toEqual({ line: 100, text: 'mystery line 99' });
    const cut = parse(lines('y'.repeat(1000)));
    expect(cut.unparsed![0].text).toBe(`${'y'.repeat(240)}…`);
  });

  it('parses a segment from the context it carries', () => {
    const { facts } = parseLines(['    Image: WerFault.exe'], { ...initialContext(), block: { address: 'fffffa8058010380', pid: 0x488f0 } }, 3, 40);
    expect(facts.processes[0]).toMatchObject({ line: 40, address: 'fffffa8058010380', image: 'WerFault.exe' });
  });
});

describe('banner', () => {
  it('reads the debugger banner and vertarget', () => {
    const f = parse(
      lines(
        'Microsoft (R) Windows Debugger Version 10.0.19041.685 AMD64',
        'Loading Dump File [C:\\Windows\\MEMORY.DMP]',
        'Kernel Bitmap Dump File: Kernel address space is available, User address space may not be available.',
        'Windows 7 Kernel Version 7601 (Service Pack 1) MP (4 procs) Free x64',
        'Product: WinNt, suite: TerminalServer SingleUserTS',
        'Built by: 7601.24545.amd64fre.win7sp1_ldr_escrow.200102-1707',
        'Debug session time: Thu Jan 30 10:11:12.345 2025 (UTC + 1:00)',
        'System Uptime: 0 days 2:34:56.789',
      ),
    );
    const sys = Object.fromEntries(f.system.map((s) => [s.field, s.value]));
    expect(sys).toMatchObject({
      debuggerVersion: '10.0.19041.685',
      debuggerArch: 'AMD64',
      dumpFile: 'C:\\Windows\\MEMORY.DMP',
      dumpType: 'Kernel Bitmap Dump File',
      mode: 'kernel',
      os: 'Windows 7',
      osBuild: 7601,
      servicePack: 1,
      processors: 4,
      arch: 'x64',
      builtBy: '7601.24545.amd64fre.win7sp1_ldr_escrow.200102-1707',
      product: 'WinNt',
      suite: 'TerminalServer SingleUserTS',
      sessionTime: 'Thu Jan 30 10:11:12.345 2025 (UTC + 1:00)',
      systemUptime: '0 days 2:34:56.789',
    });
  });
});

describe('session lines (read first, whatever is open)', () => {
  it('ends a kP parameter list at a prompt', () => {
    const f = parse(lines('0:000> kP', 'ChildEBP RetAddr', '001ce470 6bf71c8a chrome!v8::internal::Heap::MarkCompact(', '0:000> !peb', 'PEB at 7efde000', '    CommandLine:  \'"C:\\app.exe" -x\''));
    expect(f.stacks).toHaveLength(1);
    expect(f.stacks[0].frameCount).toBe(1);
    expect(f.commandLines.map((c) => c.commandLine)).toEqual(['"C:\\app.exe" -x']);
  });

  it('reads a ~ thread header inside a process block as a thread, not a detail line', () => {
    const f = parse(lines('PROCESS fffffa8075c21b30', '    SessionId: 1  Cid: 0b3c    Peb: 7fffffdb000  ParentCid: 02e0', '.  0  Id: b3c.b40 Suspend: 1 Teb: 7efdd000 Unfrozen'));
    expect(f.threads).toEqual([expect.objectContaining({ pid: 0xb3c, tid: 0xb40, index: 0 })]);
  });

  it('gives a PROCESS header its block even inside a stack', () => {
    const f = parse(lines('kd> k', 'Child-SP          RetAddr           Call Site', 'fffff880`0a1b2c30 fffff800`01234567 nt!KiSwapContext+0x7a', 'PROCESS fffffa8075c21b30', '    SessionId: 1  Cid: 0b3c    Peb: 7fffffdb000  ParentCid: 02e0'));
    expect(f.stacks[0].frameCount).toBe(1);
    expect(f.processes.find((p) => p.source === 'process-block')).toMatchObject({ address: 'fffffa8075c21b30', pid: 0xb3c });
  });
});

describe('frame, THREAD, wait and thread detail lines read from the bytes of the chunks', () => {
  // As the process listing's lines: read on the chunk's bytes when they mirror the line, else on a
  // copy; the facts must not depend on which, on where chunks end, nor on CRLF endings.
  const session = [
    '0: kd> !process 0 ff',
    'PROCESS ffffe001d147c840',
    '    SessionId: 1  Cid: 0a3c    Peb: 7ff5f000  ParentCid: 0244',
    '    DirBase: 1aa000  ObjectTable: ffffc0000a3a1000  HandleCount: 230.',
    '    Image: WerFault.exe',
    '    VadRoot ffffe001cf1a6a60 Vads 95 Clone 0 Private 524. Modified 0. Locked 0.',
    '    ElapsedTime                       00:00:06.112',
    '',
    '        THREAD ffffe001`d1a2e080  Cid 0A3C.0x0b40  Teb: 00000000`7ff5e000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable',
    '            ffffe001d1a8b080  ProcessObject',
    '            FFFFE001D1A8B0C0  SynchronizationEvent',
    '        Not impersonating',
    '        DeviceMap                 ffffc00000b0a650',
    '        Owning Process            ffffe001d147c840       Image:         WerFault.exe',
    '        Attached Process          N/A            Image:         N/A',
    '        Wait Start TickCount      1181           Ticks: 0',
    '        Context Switch Count      12             IdealProcessor: 1',
    '        Win32 Start Address ntdll!TppWorkerThread (0x00007ffb3a1f2d60)',
    '        Stack Init ffffd001a1b2fc90 Current ffffd001a1b2f6e0',
    '        Priority 9  BasePriority 8  PriorityDecrement 0  IoPriority 2  PagePriority 5',
    '        Child-SP          RetAddr           Call Site',
    '        ffffd001`a1b2f720 fffff803`2e2c5e3a nt!KiSwapContext+0x76',
    '        ffffd001`a1b2f860 fffff803`2e2c58b9 nt!KiSwapThread+0x15a (FPO: [0,0,0])',
    '        ffffd001`a1b2f910 fffff803`2e2c4e52 nt!KiCommitThreadWait+0x149 [d:\\os\\wait.c @ 312]',
    '        00000000`0a1bf2c0 00007ffb`3a1f2d60 caf\u00e9!Main+0x10  an author\u2019s note',
    '        (Inline Function) --------`-------- kernel32!WerpReportFault+0x70',
    '',
    '        THREAD ffffe001d1b3c080  Cid 0a3c.0b44  Teb: 000000007ff5c000 Win32Thread: 0000000000000000 RUNNING on processor 3',
    '        Kernel stack not resident.',
    '        THREAD 88b9fcb0  Cid 1548.16e4  Teb: 7ffac000 Win32Thread: fe288838 WAIT:',
    '(Executive) KernelMode Non-Alertable',
    '            89d1a2b8  NotificationEvent',
    '        Owning Process            zz       Image:         x.exe',
    '        THREAD 8a0b0c0d  Cid 12345678a.1  WAIT:: (WrQueue) KernelMode',
    '        THREAD zz  Cid 0.0  Teb:\t00000000 READY:',
    '        THREAD 8a0b0c0e  Cid 10.20  TERMINATED on processor 2.',
    '        THREAD 8a0b0c0f',
    '        ChildEBP RetAddr  Args to Child',
    '        0012f5e0 76bd7f63 0012f600 00000000 00000001 kernel32!WerpReportFaultInternal+0x186 (FPO: [Non-Fpo])',
    '        0012f5f4 76bd7858 00000000 00000000 00000000 kernel32!WerpReportFault+0x70',
    '        0012f604 0012f6c0 0xbf7c0',
    '',
    '0: kd> kn',
    ' # Child-SP          RetAddr           Call Site',
    '00 fffff880`0a2b3c40 fffff800`02e8c2d2 nt!KeBugCheckEx',
    '01 fffff880`0a2b3c48 fffff800`02e8c2d3 nt!KiBugCheck+0x12 ...',
    '',
  ];
  const text = session.join('\n') + '\n';
  const crlf = session.join('\r\n') + '\r\n';

  function parseChunks(bytes: Buffer, size: number): Facts {
    const all: Facts[] = [];
    const s = new Segmenter((_seg, f) => all.push(f));
    for (let i = 0; i < bytes.length; i += size) s.push(bytes.subarray(i, i + size));
    s.end();
    return {
      ...all[0],
      lineCount: all.reduce((n, f) => n + f.lineCount, 0),
      unparsedLines: all.reduce((n, f) => n + f.unparsedLines, 0),
      processes: all.flatMap((f) => f.processes),
      threads: all.flatMap((f) => f.threads),
      stacks: all.flatMap((f) => f.stacks),
      warnings: all.flatMap((f) => f.warnings),
      unparsed: all.flatMap((f) => f.unparsed ?? []),
    };
  }

  it('reads them as from decoded text, wherever the chunks end, with LF or CRLF', () => {
    const expected = parse(text);
    expect(expected.threads.map((t) => [t.address, t.pid, t.tid, t.state, t.waitReason, t.waitMode, t.processor, t.waitsOn.length, t.stackNotResident])).toEqual([
      ['ffffe001d1a2e080', 0xa3c, 0xb40, 'WAIT', 'UserRequest', 'UserMode', undefined, 2, undefined],
      ['ffffe001d1b3c080', 0xa3c, 0xb44, 'RUNNING', undefined, undefined, 3, 0, true],
      ['88b9fcb0', 0x1548, 0x16e4, 'WAIT', 'Executive', 'KernelMode', undefined, 1, undefined],
      ['8a0b0c0d', undefined, undefined, undefined, undefined, undefined, undefined, 0, undefined],
      [undefined, 0, 0, 'READY', undefined, undefined, undefined, 0, undefined],
      ['8a0b0c0e', 0x10, 0x20, 'TERMINATED', undefined, undefined, 2, 0, undefined],
      ['8a0b0c0f', undefined, undefined, undefined, undefined, undefined, undefined, 0, undefined],
    ]);
    expect(expected.stacks.map((s) => s.frameCount)).toEqual([5, 3, 2]);
    expect(expected.processes.filter((p) => p.source === 'owning-process').map((p) => [p.address, p.image])).toEqual([['ffffe001d147c840', 'WerFault.exe']]);
    for (const bytes of [Buffer.from(text, 'utf8'), Buffer.from(crlf, 'utf8')]) {
      for (const size of [bytes.length, 512, 97, 13, 1]) {
        const f = parseChunks(bytes, size);
        expect(f.threads).toEqual(expected.threads);
        expect(f.stacks).toEqual(expected.stacks);
        expect(f.processes).toEqual(expected.processes);
        expect(f.warnings).toEqual(expected.warnings);
        expect(f.unparsedLines).toEqual(expected.unparsedLines);
        expect(f.lineCount).toEqual(expected.lineCount);
      }
    }
  });

  it('keeps no process detail lines when asked not to, and nothing else changes', () => {
    const all: Facts[] = [];
    const s = new Segmenter((_seg, f) => all.push(f), { keepDetails: false });
    s.push(Buffer.from(text));
    s.end();
    const withDetails = parse(text);
    expect(withDetails.processes[0].details).toEqual({ VadRoot: 'ffffe001cf1a6a60 Vads 95 Clone 0 Private 524. Modified 0. Locked 0.', ElapsedTime: '00:00:06.112' });
    expect(all.flatMap((f) => f.processes)).toEqual(withDetails.processes.map(({ details: _, ...p }) => p));
    expect(all.flatMap((f) => f.threads)).toEqual(withDetails.threads);
    expect(all.flatMap((f) => f.stacks)).toEqual(withDetails.stacks);
    expect(all.reduce((n, f) => n + f.unparsedLines, 0)).toBe(withDetails.unparsedLines);
  });

  it('keeps none either in a segment parsed on its own when asked not to (the parse service)', () => {
    const pieces: [Segment, Facts][] = [];
    const s = new Segmenter((seg, f) => pieces.push([seg, f]), { keepLines: true });
    s.push(Buffer.from(text));
    s.end();
    expect(pieces.some(([, f]) => f.processes.some((p) => p.details !== undefined))).toBe(true);
    for (const [seg, f] of pieces) expect(parseSegment(seg, { keepDetails: false })).toEqual({ ...f, processes: f.processes.map(({ details: _, ...p }) => p) });
  });
});

describe('frames built from a stack text on its bytes', () => {
  // readStackFrames reads a text with no character past U+00FF as one latin1 view, any other
  // text a line at a time: the frames must be the same. (cleanLine makes the typographic quote ASCII.)
  const stackLines = [
    '        ffffd001`a1b2f720 fffff803`2e2c5e3a nt!KiSwapContext+0x76',
    '        ffffd001`a1b2f860 fffff803`2e2c58b9 nt!KiSwapThread+0x15a (FPO: [0,0,0])',
    '        ffffd001`a1b2f910 fffff803`2e2c4e52 caf\u00e9!Main+0x10 [d:\\os\\wait.c @ 312]',
    '...',
    '        ffffd001`a1b2f980 fffff803`2e2c4e60 nt!KiCommitThreadWait+0x149  an author\u2019s note: \u03a9 \u4e2d',
    '        (Inline Function) --------`-------- kernel32!WerpReportFault+0x70',
  ];
  it('gives the same frames with and without characters past latin1', () => {
    for (const withWide of [false, true]) {
      const body = (withWide ? stackLines : stackLines.map((l) => l.replace(' \u03a9 \u4e2d', ''))).map((l) => l.replace('\u2019', "'"));
      const f = parse(lines('0: kd> k', 'Child-SP          RetAddr           Call Site', ...body));
      expect(f.stacks).toHaveLength(1);
      const frames = readStackFrames(f.stacks[0]);
      expect(frames.map((x) => [x.callSite, x.frameAddress, x.returnAddress, x.line, x.source])).toEqual([
        ['nt!KiSwapContext+0x76', 'ffffd001a1b2f720', 'fffff8032e2c5e3a', 3, undefined],
        // (the FPO suffix's brackets read as a source, as they always have)
        ['nt!KiSwapThread+0x15a', 'ffffd001a1b2f860', 'fffff8032e2c58b9', 4, '0,0,0'],
        ['caf\u00e9!Main+0x10', 'ffffd001a1b2f910', 'fffff8032e2c4e52', 5, 'd:\\os\\wait.c @ 312'],
        ['nt!KiCommitThreadWait+0x149', 'ffffd001a1b2f980', 'fffff8032e2c4e60', 7, undefined],
        ['kernel32!WerpReportFault+0x70', null, null, 8, undefined],
      ]);
      expect(frames.map((x) => x.raw)).toEqual(body.filter((l) => l !== '...'));
    }
  });
});
