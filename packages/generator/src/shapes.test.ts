/**
 * Exact line shapes, as real kd/cdb/WinDbg print them (see shared/seeds and shared/corpus), for
 * each evidence kind and each dialect. Noise 0 unless the test is about noise.
 */
import { generateTranscript, type DumpSpec } from './index';
import { buildPlan, type ProcessPlan } from './plan';
import { normalizeSpec } from './spec';

function text(spec: DumpSpec): string {
  return [...generateTranscript(spec).chunks].join('');
}

function lines(spec: DumpSpec): string[] {
  return text(spec).split('\n');
}

const hex16 = '[0-9a-f]{16}';
const esc = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

describe('win7 x64 WOW64 storm (the seed)', () => {
  const spec: DumpSpec = { seed: 2024, os: 'win7', wow64: true, processes: 40, chains: [{ depth: 3, evidence: ['command-line', 'parentage', 'waiting'], rootPresent: true, rootStack: 'present' }] };
  const plan = buildPlan(normalizeSpec(spec));
  const all = lines(spec);
  const body = all.join('\n');
  const reporters = plan.processes.filter((p) => p.role === 'reporter');

  it('prints PROCESS blocks with 16-digit EPROCESS, 4-digit hex Cids and a dotted HandleCount', () => {
    expect(body).toMatch(new RegExp(`^PROCESS ${hex16}$`, 'm'));
    for (const p of plan.processes) {
      const i = all.indexOf(`PROCESS ${p.addrText}`);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(all[i + 1]).toBe(`    SessionId: ${p.session ?? 'none'}  Cid: ${p.pid.toString(16).padStart(4, '0')}    Peb: ${p.pebText}  ParentCid: ${p.parentPid.toString(16).padStart(4, '0')}`);
      expect(all[i + 2]).toMatch(new RegExp(`^    DirBase: [0-9a-f]{8,}  ObjectTable: (${hex16}|00000000)  HandleCount: {1,3}\\d+\\.$`));
      expect(all[i + 3]).toBe(`    Image: ${p.image}`);
    }
    expect(body).toContain('    SessionId: none  Cid: 0004    Peb: 00000000  ParentCid: 0000');
  });

  it('links by parentage: the reporter ParentCid is the reported Cid', () => {
    for (const r of reporters) {
      const i = all.indexOf(`PROCESS ${r.addrText}`);
      expect(all[i + 1]).toContain(`ParentCid: ${r.reportsPid.toString(16).padStart(4, '0')}`);
      expect(r.pebText).toBe('7efdf000');
    }
  });

  it('links by command line: .process /r /p then !peb with the decimal -p', () => {
    for (const r of reporters) {
      const at = all.findIndex((l) => l.endsWith(`kd> .process /r /p ${r.addrText}`) && all.slice(all.indexOf(l)).some((m) => m.includes('CommandLine:')));
      expect(at).toBeGreaterThanOrEqual(0);
      expect(all[at + 1]).toBe(`Implicit process is now ${r.addrTick}`);
      expect(r.addrTick).toMatch(/^[0-9a-f]{8}`[0-9a-f]{8}$/);
      const peb = all.findIndex((l, k) => k > at && /kd> !peb$/.test(l));
      const cmd = all.findIndex((l, k) => k > peb && l.includes('CommandLine:'));
      expect(all.slice(at + 1, cmd).some((l) => /kd(:x86)?> /.test(l) && !/kd> !peb$/.test(l))).toBe(false);
      expect(all[cmd]).toMatch(new RegExp(`^    CommandLine:  'C:\\\\Windows\\\\SysWOW64\\\\WerFault\\.exe -u -p ${r.reportsPid} -s \\d+'$`));
    }
  });

  it('links by waiting: a UserRequest wait on the reporter ProcessObject', () => {
    for (const r of reporters) {
      const reported = plan.processes[r.reportsIndex] as ProcessPlan;
      const obj = all.findIndex((l) => l === `            ${r.addrText}  ProcessObject`);
      expect(obj).toBeGreaterThan(0);
      let t = obj - 1;
      while (!all[t]?.includes('THREAD ')) t--;
      expect(all[t]).toMatch(new RegExp(`^        THREAD ${hex16}  Cid ${reported.cid}\\.[0-9a-f]{4,}  Teb: ${hex16} Win32Thread: ${hex16} WAIT: \\(UserRequest\\) UserMode Non-Alertable$`));
    }
  });

  it('reads 32-bit stacks with .thread /w at a :x86 prompt and returns with .effmach', () => {
    expect(body).toContain('kd> .load wow64exts');
    expect(body).toMatch(/kd> \.thread \/w [0-9a-f]{16}\nImplicit thread is now [0-9a-f]{8}`[0-9a-f]{8}\nx86 context set\n/);
    expect(body).toMatch(/kd:x86> k\n\*\*\* Stack trace for last set context - \.thread\/\.cxr resets it\nChildEBP          RetAddr\n[0-9a-f]{8} [0-9a-f]{8} ntdll!ZwWaitForMultipleObjects\+0x15\n/);
    expect(body).toMatch(/kd:x86> \.effmach AMD64\nEffective machine: x64 \(AMD64\)\n/);
    expect(body).toContain('Loading Wow64 Symbols');
  });

  it('shows the root exception stack from KiUserExceptionDispatcher up to WaitForMultipleObjects', () => {
    const root = plan.processes.find((p) => p.role === 'root') as ProcessPlan;
    const k = all.findIndex((l, i) => l.endsWith('kd:x86> k') && all.slice(Math.max(0, i - 20), i).some((m) => m.endsWith(`.process /r /p ${root.addrText}`)));
    expect(k).toBeGreaterThan(0);
    const frames: string[] = [];
    for (let i = k + 3; all[i] && /^[0-9a-f]{8} [0-9a-f]{8} /.test(all[i] as string) || all[i]?.startsWith('WARNING'); i++) frames.push(all[i] as string);
    const order = ['WaitForMultipleObjects', 'WerpReportFaultInternal', 'WerpReportFault+', 'UnhandledExceptionFilter', 'RtlDispatchException', 'KiUserExceptionDispatcher'];
    const at = order.map((name) => frames.findIndex((f) => f.includes(name)));
    expect(at.every((x) => x >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('prints 64-bit stack values with a backtick', () => {
    expect(body).toMatch(/^        [0-9a-f]{8}`[0-9a-f]{8} [0-9a-f]{8}`[0-9a-f]{8} nt!KiSwapContext\+0x7a$/m);
    expect(body).toMatch(/^        Child-SP          RetAddr           Call Site$/m);
    expect(body).toContain('(TrapFrame @ ');
  });

  it('uses plain LF, no tabs and no HTML without noise', () => {
    expect(body).not.toContain('\r');
    expect(body).not.toContain('\t');
    expect(body).not.toContain('<span');
  });
});

describe('WOW64 context switches', () => {
  it('reach the 32-bit stack by .thread /w, .effmach x86 or !sw, and come back', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 10; seed++) {
      const body = text({ seed, os: 'win10', wow64: true, processes: 10, chains: [{ depth: 4 }] });
      if (/kd> \.thread \/w [0-9a-f]{16}\nImplicit thread is now \S+\nx86 context set\n/.test(body)) seen.add('/w');
      if (/kd> \.effmach x86\nEffective machine: x86 compatible \(x86\)\n\n?0: kd:x86> k\n/.test(body)) seen.add('effmach');
      if (/kd> !sw\nSwitched to Guest \(WoW\) mode\n\n?0: kd:x86> k\n[\s\S]*?kd:x86> !sw\nSwitched to Host mode\n/.test(body)) seen.add('sw');
      expect(body).not.toMatch(/kd:x86> (?!k\n|\.effmach amd64|\.effmach AMD64|!sw)/i);
    }
    expect([...seen].sort()).toEqual(['/w', 'effmach', 'sw']);
  });
});

describe('root stack', () => {
  const base = (rootStack: 'present' | 'paged-out' | 'absent'): DumpSpec => ({ seed: 77, os: 'win10', processes: 20, style: 'investigation', chains: [{ depth: 2, evidence: ['waiting'], rootStack }] });
  const rootThread = (spec: DumpSpec): string[] => {
    const plan = buildPlan(normalizeSpec(spec));
    const root = plan.processes.find((p) => p.role === 'root') as ProcessPlan;
    const reporter = plan.processes.find((p) => p.reportsIndex === root.index) as ProcessPlan;
    const all = lines(spec);
    const obj = all.indexOf(`            ${reporter.addrText}  ProcessObject`);
    expect(obj).toBeGreaterThan(0);
    const end = all.findIndex((l, i) => i > obj && l === '');
    return all.slice(obj, end);
  };

  it('present: the x64 exception stack is under the waiting thread', () => {
    const t = rootThread(base('present')).join('\n');
    expect(t).toMatch(/ntdll!KiUserExceptionDispatch\+0x2e/);
    expect(t).toMatch(/KERNEL32!WerpReportFaultInternal\+0x51b/);
    expect(t).toMatch(/KERNELBASE!UnhandledExceptionFilter/);
  });

  it('paged-out: Kernel stack not resident.', () => {
    const t = rootThread(base('paged-out'));
    expect(t).toContain('        Kernel stack not resident.');
    expect(t.join('\n')).not.toContain('KiUserExceptionDispatch');
  });

  it('absent: no symbolic exception frames', () => {
    const t = rootThread(base('absent')).join('\n');
    expect(t).not.toContain('KiUserExceptionDispatch');
    expect(t).not.toContain('WerpReportFault');
  });
});

describe('dialects', () => {
  it('win10 x64: upper-case KERNEL32, modern args columns, command line under C:\\WINDOWS', () => {
    const body = text({ seed: 5, os: 'win10', processes: 10, chains: [{ depth: 2, evidence: ['command-line'] }] });
    expect(body).toMatch(/^    CommandLine:  'C:\\WINDOWS\\system32\\WerFault\.exe -u -p \d+ -s \d+'$/m);
    expect(body).toMatch(/^(\d+: )?kd> /m);
    expect(body).toContain('Windows 10 Kernel Version 19041');
  });

  it('x86: PROCESS, SessionId and Cid on one line, 8-digit addresses, ChildEBP stacks', () => {
    const body = text({ seed: 6, os: 'win7', arch: 'x86', processes: 10, chains: [{ depth: 2 }] });
    expect(body).toMatch(/^PROCESS [0-9a-f]{8}  SessionId: (none|\d+)  Cid: [0-9a-f]{4,}    Peb: [0-9a-f]{8}  ParentCid: [0-9a-f]{4,}$/m);
    expect(body).toMatch(/^        THREAD [0-9a-f]{8}  Cid [0-9a-f]{4,}\.[0-9a-f]{4,}  Teb: [0-9a-f]{8} Win32Thread: [0-9a-f]{8} /m);
    expect(body).toMatch(/^\s*ChildEBP RetAddr  /m);
    expect(body).toMatch(/^            [0-9a-f]{8}  ProcessObject$/m);
    expect(body).toContain('ntdll!KiUserExceptionDispatcher+0xf');
    expect(body).not.toContain('`');
  });

  it('NT 4: kd> prompt, TableSize, no SessionId, no blank line between listed processes', () => {
    const body = text({ seed: 7, os: 'nt4', processes: 9, chains: [{ depth: 2 }] });
    expect(body).toMatch(/^kd> !process 0 0$/m);
    expect(body).toMatch(/^PROCESS [0-9a-f]{8}  Cid: [0-9a-f]{4}    Peb: [0-9a-f]{8}  ParentCid: [0-9a-f]{4}\n    DirBase: [0-9a-f]{8}  ObjectTable: [0-9a-f]{8}  TableSize: {1,3}\d+\.\n    Image: \S+\nPROCESS /m);
    expect(body).not.toContain('SessionId');
    expect(body).not.toContain('0: kd>');
  });

  it.each(['kd', 'cdb', 'windbg'] as const)('%s has its banner and closing', (debuggerKind) => {
    const body = text({ seed: 8, debugger: debuggerKind, processes: 5 });
    if (debuggerKind === 'windbg') {
      expect(body).toMatch(/Opened log file '.*'/);
      expect(body).toMatch(/Closing open log file/);
    } else expect(body).toMatch(/^Microsoft \(R\) Windows Debugger Version \S+ (AMD64|X86)$/m);
    if (debuggerKind === 'cdb') expect(body).toMatch(/kd> q\nquit:\n$/);
  });

  it('full style prints every process with its threads under one !process 0 ff', () => {
    const spec: DumpSpec = { seed: 9, style: 'full', processes: 15, chains: [{ depth: 2 }] };
    const body = text(spec);
    const plan = buildPlan(normalizeSpec(spec));
    expect(body).toMatch(/kd> !process 0 ff\n\*\*\*\* NT ACTIVE PROCESS DUMP \*\*\*\*\n/);
    expect(body).not.toMatch(/kd> !process 0 0\n/);
    for (const p of plan.processes) expect(body).toMatch(new RegExp(`^        THREAD [0-9a-f]{16}  Cid ${esc(p.cid)}\\.`, 'm'));
  });
});

describe('noise', () => {
  it('mixes in unrelated commands, HTML prompts, CRLF, tabs and elisions', () => {
    const seen = { span: false, crlf: false, tab: false, locks: false, lm: false, elision: false, warning: false, collapsed: false };
    for (let seed = 1; seed <= 12; seed++) {
      const body = text({ seed, os: seed % 2 ? 'win7' : 'win10', processes: 40, noise: 1, chains: [{ depth: 2 }], werfaultDecoys: 1 });
      seen.span ||= /^<span style="color: #ff0000;">(\d+: )?kd(:x86)?> .*<\/span>\r?$/m.test(body);
      seen.crlf ||= body.includes('\r\n');
      seen.tab ||= /^\t/m.test(body);
      seen.locks ||= body.includes('kd> !locks');
      seen.lm ||= /kd> lm\r?\nstart {13}end {17}module name/.test(body);
      seen.elision ||= /^(\s*\.\.\.|<snip>)\r?$/m.test(body);
      seen.warning ||= body.includes('*** ERROR: Module load completed but symbols could not be loaded for');
      // pasted into a web page: no indentation, single spaces (the seed's `THREAD fffffa807c183b60 Cid 2d3c8.4334c Teb: …`)
      seen.collapsed ||= /^THREAD [0-9a-f]{8,16} Cid [0-9a-f]{4,}\.[0-9a-f]{4,} Teb: /m.test(body);
    }
    expect(seen).toEqual({ span: true, crlf: true, tab: true, locks: true, lm: true, elision: true, warning: true, collapsed: true });
  });

  it('a CRLF transcript uses CRLF on every line', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const body = text({ seed, processes: 10, noise: 1 });
      if (!body.includes('\r\n')) continue;
      expect(body.replace(/\r\n/g, '').includes('\n')).toBe(false);
      return;
    }
    throw new Error('no CRLF transcript in 20 seeds');
  });
});
