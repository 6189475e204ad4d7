import { Segmenter, type Facts } from '@dumpstream/transcript';
import { DumpGraph } from './graph';
import { reportLinks, reportedPidFromCommandLine, isWerFault } from './links';

function segments(text: string, maxLines = 2): Facts[] {
  const out: Facts[] = [];
  const s = new Segmenter((_seg, f) => out.push(f), { maxLines, hardMaxLines: 50 });
  s.push(text);
  s.end();
  return out;
}

const lines = (...l: string[]) => l.join('\n') + '\n';

const STORM = lines(
  '0: kd> !process 0 0',
  'PROCESS fffffa8000000100',
  '    SessionId: 1  Cid: 0100    Peb: 7efdf000  ParentCid: 0004',
  '    Image: app.exe',
  '',
  'PROCESS fffffa8000000200',
  '    SessionId: 1  Cid: 0200    Peb: 7efdf000  ParentCid: 0100',
  '    Image: WerFault.exe',
  '',
  'PROCESS fffffa8000000300',
  '    SessionId: 1  Cid: 0300    Peb: 7efdf000  ParentCid: 0999',
  '    Image: WerFault.exe',
  '',
  '0: kd> !process fffffa8000000200 ff',
  'PROCESS fffffa8000000200',
  '    SessionId: 1  Cid: 0200    Peb: 7efdf000  ParentCid: 0100',
  '    Image: WerFault.exe',
  '        THREAD fffffa8000002210  Cid 0200.0210  Teb: 000000007efdb000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable',
  '            fffffa8000000300  ProcessObject',
  '',
  '0: kd> .process /r /p fffffa8000000300',
  'Implicit process is now fffffa80`00000300',
  '0: kd> !peb',
  "    CommandLine:  'C:\\Windows\\System32\\WerFault.exe -u -p 512 -s 88'",
);

describe('DumpGraph', () => {
  it('gives the same graph whatever the order of merges, and when facts are merged twice', () => {
    const segs = segments(STORM);
    expect(segs.length).toBeGreaterThan(4);
    const inOrder = new DumpGraph();
    for (const f of segs) inOrder.merge(f);
    const shuffled = new DumpGraph();
    for (const f of [...segs].reverse()) shuffled.merge(f);
    for (const f of segs) shuffled.merge(f);
    expect(shuffled.resolve()).toEqual(inOrder.resolve());
    expect(inOrder.hasAll(segs.length)).toBe(true);
    expect(new DumpGraph().hasAll(1)).toBe(false);
  });

  it('keys processes by pid, folding a block printed twice into one', () => {
    const g = new DumpGraph();
    for (const f of segments(STORM)) g.merge(f);
    const dump = g.resolve();
    expect(dump.processes.map((p) => p.pid)).toEqual([0x100, 0x200, 0x300]);
    const wer = dump.processes[1];
    expect(wer.threads).toHaveLength(1);
    expect(wer.threads[0].waitsOn).toEqual([{ address: 'fffffa8000000300', type: 'ProcessObject' }]);
    expect(dump.processes[2].commandLine).toBe('C:\\Windows\\System32\\WerFault.exe -u -p 512 -s 88');
  });

  it('links reporters by command line over waiting over parentage, and records the conflict', () => {
    const g = new DumpGraph();
    for (const f of segments(STORM)) g.merge(f);
    const links = reportLinks(g.resolve());
    expect(links.get(0x200)).toEqual({ reporterPid: 0x200, targetPid: 0x100, evidence: ['parentage'], conflicts: [] });
    // 0x300: command line says 512 (= 0x200), waiting says 0x200, parentage says 0x999.
    expect(links.get(0x300)).toEqual({
      reporterPid: 0x300,
      targetPid: 0x200,
      evidence: ['command-line', 'waiting'],
      conflicts: [{ kind: 'parentage', targetPid: 0x999 }],
    });
    expect(links.has(0x100)).toBe(false);
  });
});

describe('WerFault command lines and images', () => {
  it.each([
    ['C:\\Windows\\SysWOW64\\WerFault.exe -u -p 189240 -s 3888', 189240],
    ['C:\\Windows\\system32\\WerFault.exe -pss -s 420 -p 5952 -ip 5952', 5952],
    ['"C:\\Windows\\system32\\WerFault.exe" /p 77', 77],
    ['C:\\Windows\\system32\\WerFault.exe -k -rq', null],
    ['C:\\Windows\\system32\\WerFault.exe -p notanumber', null],
  ])('%s → %s', (cmd, pid) => {
    expect(reportedPidFromCommandLine(cmd)).toBe(pid);
  });

  it('matches the image case-insensitively, with or without a path', () => {
    expect(isWerFault('WerFault.exe')).toBe(true);
    expect(isWerFault('WERFAULT.EXE')).toBe(true);
    expect(isWerFault('C:\\Windows\\SysWOW64\\werfault.exe')).toBe(true);
    expect(isWerFault('NotWerFault.exe')).toBe(false);
    expect(isWerFault('WerFaultSecure.exe')).toBe(false);
    expect(isWerFault(null)).toBe(false);
  });
});
