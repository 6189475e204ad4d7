import { Segmenter, type Facts } from '@dumpstream/transcript';
import { DumpGraph, factCount, resolveFacts } from './graph';
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
  it('drops process facts that repeat earlier ones (a listing printed again and again) without changing the graph', () => {
    const listing = STORM.split('0: kd> !process fffffa8000000200 ff')[0];
    const segs = segments(listing + listing + listing + STORM, 3);
    const whole = resolveFacts(segs);
    expect(whole.processes.map((p) => p.pid)).toEqual([0x100, 0x200, 0x300]);
    for (const order of [segs, [...segs].reverse()]) {
      const g = new DumpGraph();
      for (const f of order) g.merge(f);
      expect(g.resolve()).toEqual(whole);
    }
  });

  it('drops repeats the same when a listing printed again changes its order or a process', () => {
    const block = (addr: string, pid: number, parent: number, handles: number, image: string) => [
      `PROCESS fffffa80000${addr}`,
      `    SessionId: 1  Cid: ${pid.toString(16)}    Peb: 7efdf000  ParentCid: ${parent.toString(16)}`,
      `    DirBase: 1ab000  ObjectTable: fffff8a00000${addr}  HandleCount: ${handles}.`,
      `    Image: ${image}`,
      '',
    ];
    const a = block('01000', 0x100, 4, 10, 'app.exe');
    const b = block('02000', 0x200, 0x100, 20, 'WerFault.exe');
    const c = block('03000', 0x300, 0x200, 30, 'WerFault.exe');
    const d = block('04000', 0x400, 0x300, 40, 'WerFault.exe');
    const listing = (...blocks: string[][]) => ['0: kd> !process 0 0', ...blocks.flat()];
    // The second listing lists c before b and gives b another handle count; the third is the first again.
    const text = lines(...listing(a, b, c, d), ...listing(a, c, block('02000', 0x200, 0x100, 21, 'WerFault.exe'), d), ...listing(a, b, c, d));
    const segs = segments(text, 3);
    const whole = resolveFacts(segs);
    expect(whole.processes.map((p) => p.pid)).toEqual([0x100, 0x200, 0x300, 0x400]);
    const middleFirst = [...segs.slice(segs.length >> 1), ...segs.slice(0, segs.length >> 1)];
    for (const order of [segs, [...segs].reverse(), middleFirst]) {
      const g = new DumpGraph();
      for (const f of order) g.merge(f);
      expect(g.resolve()).toEqual(whole);
    }
  });

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

describe('the fact limit', () => {
  /** A process list of n processes; a segment that opens inside a block names its process again (one more fact). */
  const list = (n: number) =>
    segments(
      lines(
        '0: kd> !process 0 0',
        ...Array.from({ length: n }, (_, i) => [`PROCESS fffffa80000${(0x10000 + i).toString(16)}`, `    SessionId: 1  Cid: ${(4 * i + 8).toString(16)}    Peb: 7efdf000  ParentCid: 0004`, '    Image: app.exe', '']).flat(),
      ),
      8,
    );

  it('keeps the segments from the first up to the limit, and says from which line the rest was left out', () => {
    const segs = list(40);
    const total = segs.reduce((n, f) => n + factCount(f), 0);
    expect(total).toBeGreaterThanOrEqual(40);
    const g = new DumpGraph({ maxFacts: 15 });
    for (const f of segs) g.merge(f);
    const dump = g.resolve();
    // Whole segments only: every kept process was printed before the cut, none after.
    expect(g.cutAt).not.toBeNull();
    const kept = segs.slice(0, g.cutAt!).reduce((n, f) => n + factCount(f), 0);
    expect(kept).toBeLessThanOrEqual(15);
    expect(kept + factCount(segs[g.cutAt!])).toBeGreaterThan(15);
    expect(dump.processes.length).toBeGreaterThan(5);
    const cutLine = segs[g.cutAt!].firstLine;
    expect(dump.processes.every((p) => p.line < cutLine)).toBe(true);
    expect(dump.warnings[0]).toEqual({
      line: cutLine,
      kind: 'facts-capped',
      text: `the dump holds more than 15 facts (processes, threads, stacks, command lines, frames 16 to a fact): the report covers lines 1-${cutLine - 1}, the transcript from line ${cutLine} on was left out`,
    });
    expect(dump.stats.lines).toBe(cutLine - 1);
    expect(dump.stats.warnings).toBe(1);
  });

  it('cuts at the same place whatever the order of merges', () => {
    const segs = list(40);
    const inOrder = new DumpGraph({ maxFacts: 15 });
    for (const f of segs) inOrder.merge(f);
    const reversed = new DumpGraph({ maxFacts: 15 });
    for (const f of [...segs].reverse()) reversed.merge(f);
    const interleaved = new DumpGraph({ maxFacts: 15 });
    for (const f of [...segs.filter((_, i) => i % 2 === 1), ...segs.filter((_, i) => i % 2 === 0)]) interleaved.merge(f);
    expect(reversed.resolve()).toEqual(inOrder.resolve());
    expect(interleaved.resolve()).toEqual(inOrder.resolve());
    expect(reversed.cutAt).toBe(inOrder.cutAt);
  });

  it('holds no more than the limit when a segment is missing, and cuts where the held ones pass it', () => {
    const segs = list(40);
    const without1 = segs.filter((f) => f.segment !== 1);
    const g = new DumpGraph({ maxFacts: 15 });
    for (const f of [...without1].reverse()) g.merge(f);
    expect(g.cutAt).not.toBeNull();
    const kept = without1.filter((f) => f.segment < g.cutAt!);
    expect(kept.reduce((n, f) => n + factCount(f), 0)).toBeLessThanOrEqual(15);
    expect(kept.reduce((n, f) => n + factCount(f), 0) + factCount(segs[g.cutAt!])).toBeGreaterThan(15);
    // The same cut as merged in order: a missing segment counts as empty.
    const inOrder = new DumpGraph({ maxFacts: 15 });
    for (const f of without1) inOrder.merge(f);
    expect(inOrder.cutAt).toBe(g.cutAt);
    expect(inOrder.resolve()).toEqual(g.resolve());
  });

  it('leaves a dump within the limit whole and without the warning', () => {
    const segs = list(40);
    const g = new DumpGraph({ maxFacts: segs.reduce((n, f) => n + factCount(f), 0) });
    for (const f of segs) g.merge(f);
    const dump = g.resolve();
    expect(g.cutAt).toBeNull();
    expect(dump.processes).toHaveLength(40);
    expect(dump.warnings.some((w) => w.kind === 'facts-capped')).toBe(false);
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
