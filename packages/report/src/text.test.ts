import { detectErrorReportingFault } from '@dumpstream/detect';
import { DumpGraph } from '@dumpstream/graph';
import { Segmenter } from '@dumpstream/transcript';
import { buildReport, type Report } from './report';
import { renderText } from './text';
import { renderHtml } from './html';

function reportOf(text: string): Report {
  const g = new DumpGraph();
  const s = new Segmenter((_seg, f) => g.merge(f));
  s.push(text);
  s.end();
  const dump = g.resolve();
  const f = detectErrorReportingFault(dump);
  return buildReport({ source: 'test', dumpId: '0'.repeat(64), bytes: text.length, dump, findings: f ? [f] : [] });
}

/** A PROCESS block as `!process 0 0` prints it, with a command line when given. */
function proc(cid: number, parent: number, image: string, commandLine?: string): string {
  const addr = `fffffa80${cid.toString(16).padStart(8, '0')}`;
  return (
    `PROCESS ${addr}\n    SessionId: 1  Cid: ${cid.toString(16).padStart(4, '0')}    Peb: 7efdf000  ParentCid: ${parent.toString(16).padStart(4, '0')}\n    Image: ${image}\n` +
    (commandLine ? `    CommandLine:  '${commandLine}'\n` : '') +
    '\n'
  );
}

/** A chain of `depth` WerFault.exe on a root `app`, linked by parentage, pids from `base` up. */
function chain(root: number, app: string, depth: number, base: number): string {
  let out = proc(root, 4, app);
  for (let i = 0; i < depth; i++) out += proc(base + i, i === 0 ? root : base + i - 1, 'WerFault.exe');
  return out;
}

describe('text report', () => {
  it('orders original faults by WerFault.exe count, then depth, in the summary, the trees, the JSON chains and the HTML', () => {
    // small.exe: one chain of 3; wide.exe: a chain of 2 fanning out to 6 more (8 WerFault.exe, depth 3); deep.exe: a chain of 5.
    let t = chain(0x100, 'small.exe', 3, 0x1000) + chain(0x200, 'deep.exe', 5, 0x2000) + chain(0x300, 'wide.exe', 2, 0x3000);
    for (let i = 0; i < 6; i++) t += proc(0x3100 + i, 0x3001, 'WerFault.exe');
    const report = reportOf(t);
    const text = renderText(report);
    const headings = text.split('\n').filter((l) => l.startsWith('  original fault: '));
    expect(headings).toEqual([
      `  original fault: wide.exe pid ${0x300} (Cid 300): 8 WerFault.exe, 6 chains, deepest 3`,
      `  original fault: deep.exe pid ${0x200} (Cid 200): 5 WerFault.exe, 1 chain, deepest 5`,
      `  original fault: small.exe pid ${0x100} (Cid 100): 3 WerFault.exe, 1 chain, deepest 3`,
    ]);
    expect(report.findings[0].summary).toMatch(/original faults: wide\.exe 768 \(8 WerFault\.exe\), deep\.exe 512 \(5 WerFault\.exe\), small\.exe 256 \(3 WerFault\.exe\)$/);
    const rootOrder = [...new Set(report.findings[0].chains.map((c) => c.root.image))];
    expect(rootOrder).toEqual(['wide.exe', 'deep.exe', 'small.exe']);
    const html = renderHtml(report);
    expect(html.indexOf('Original fault: wide.exe')).toBeLessThan(html.indexOf('Original fault: deep.exe'));
    expect(html.indexOf('Original fault: deep.exe')).toBeLessThan(html.indexOf('Original fault: small.exe'));
  });

  it('caps the list of original faults after the biggest ones', () => {
    let t = '';
    // Ten roots; the one with the most WerFault.exe has the highest pid, so pid order would hide it.
    for (let i = 0; i < 10; i++) t += chain(0x100 + i, `app${i}.exe`, i === 9 ? 7 : 2, 0x1000 + i * 0x100);
    const text = renderText(reportOf(t));
    const headings = text.split('\n').filter((l) => l.startsWith('  original fault: '));
    expect(headings).toHaveLength(8);
    expect(headings[0]).toMatch(/^  original fault: app9\.exe .*: 7 WerFault\.exe/);
    expect(text).toContain('… and 2 more original faults, smaller (see --format json)');
  });

  it('draws short chains whole and folds only runs of tens of levels', () => {
    const short = renderText(reportOf(chain(0x100, 'app.exe', 7, 0x1000)));
    expect(short).not.toMatch(/more levels/);
    expect(short.match(/WerFault\.exe \d+ \(Cid/g)).toHaveLength(7);
    const long = renderText(reportOf(chain(0x100, 'app.exe', 40, 0x1000)));
    expect(long).toMatch(/│  … 38 more levels of WerFault\.exe, one reporting on the next …/);
  });

  it('marks the faulting frame in text and HTML, and gives its index in JSON', () => {
    const t =
      '0: kd> !process 0 ff\n' +
      proc(0x100, 4, 'app.exe').trimEnd() +
      '\n        THREAD fffffa8000001110  Cid 0100.0110  Teb: 000000007efdb000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable\n' +
      '            fffffa8000001000  ProcessObject\n' +
      '        ChildEBP RetAddr\n' +
      '        000bf574 76bd80a4 kernel32!WaitForMultipleObjects+0x18\n' +
      '        000bf5e0 76bd7f63 kernel32!WerpReportFaultInternal+0x186\n' +
      '        000bf690 776674df kernel32!UnhandledExceptionFilter+0x1af\n' +
      '        000bf7b4 000bf7c0 ntdll!KiUserExceptionDispatcher+0xf\n' +
      '        000bfb00 77629ef2 app!Parse+0x2c\n' +
      '        000bfb10 77629f00 kernel32!BaseThreadInitThunk+0xe\n\n' +
      proc(0x1000, 0x100, 'WerFault.exe') +
      proc(0x1001, 0x1000, 'WerFault.exe');
    const report = reportOf(t);
    const root = report.findings[0].chains[0].root;
    expect(root.faultingFrame).toBe(4);
    expect(root.exceptionStack![4].callSite).toBe('app!Parse+0x2c');
    const text = renderText(report);
    expect(text).toContain(`faulting frame: app!Parse+0x2c (frame 5 of 6, the first of the program's own code past the exception dispatch)`);
    expect(text).toMatch(/\n {6}app!Parse\+0x2c {3}◀ faulting frame\n/);
    expect(renderHtml(report)).toContain('<li class="faulting">app!Parse+0x2c  ◀ faulting frame</li>');
  });

  it('names the process a conflict points at, once per group, and ignores the WER service host', () => {
    // Three reporters whose command lines say 0x100 while their parent is 0x50, an ordinary process;
    // two more whose parent is svchost.exe running WerSvc.
    let t = proc(0x50, 4, 'explorer.exe') + proc(0x60, 4, 'svchost.exe', 'C:\\Windows\\System32\\svchost.exe -k WerSvcGroup') + proc(0x100, 4, 'app.exe');
    t += proc(0x1000, 0x100, 'WerFault.exe', 'C:\\Windows\\system32\\WerFault.exe -u -p 256 -s 100');
    for (let i = 1; i <= 3; i++) t += proc(0x1000 + i, 0x50, 'WerFault.exe', `C:\\Windows\\system32\\WerFault.exe -u -p ${0x1000 + i - 1} -s 100`);
    for (let i = 4; i <= 5; i++) t += proc(0x1000 + i, 0x60, 'WerFault.exe', `C:\\Windows\\system32\\WerFault.exe -u -p ${0x1000 + i - 1} -s 100`);
    const report = reportOf(t);
    const lines = renderText(report)
      .split('\n')
      .filter((l) => l.includes('conflict'));
    expect(lines).toEqual([`  conflict: the parentage of 3 WerFault.exe (4097, 4098, 4099) points at explorer.exe 80 (Cid 50), overruled by stronger evidence`]);
  });

  it('says 1 thread, not 1 threads', () => {
    const text = renderText(reportOf('THREAD fffffa8000001110  Cid 0100.0110  Teb: 000000007efdb000 Win32Thread: 0000000000000000 RUNNING on processor 0\n'));
    expect(text).toMatch(/ 1 thread, /);
  });
});
