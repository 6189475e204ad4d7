import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { detectErrorReportingFault } from '@dumpstream/detect';
import { generateTranscript, type DumpSpec } from '@dumpstream/generator';
import { DumpGraph } from '@dumpstream/graph';
import { Segmenter } from '@dumpstream/transcript';
import { renderHtml, renderHtmlPage } from './html';
import { buildReport, type Report, type ReportFinding } from './report';
import { esc, renderSvg } from './svg';
import { layoutFinding, type DrawnNode, type TreeLayout } from './tree';

const SEED = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'seed-error-reporting-fault.txt');

function reportOf(source: string, text: string): Report {
  const g = new DumpGraph();
  const s = new Segmenter((_seg, f) => g.merge(f));
  s.push(text);
  s.end();
  const dump = g.resolve();
  const f = detectErrorReportingFault(dump);
  return buildReport({ source, dumpId: '0'.repeat(64), bytes: text.length, dump, findings: f ? [f] : [] });
}

function generated(spec: DumpSpec): Report {
  const t = generateTranscript(spec);
  let text = '';
  for (const c of t.chunks) text += c;
  return reportOf(`generated seed ${spec.seed}`, text);
}

/** A PROCESS block as `!process 0 0` prints it. */
function proc(addr: string, cid: number, parent: number, image: string): string {
  return `PROCESS ${addr}\n    SessionId: 1  Cid: ${cid.toString(16).padStart(4, '0')}    Peb: 7efdf000  ParentCid: ${parent.toString(16).padStart(4, '0')}\n    Image: ${image}\n\n`;
}

const seed = reportOf('seed', readFileSync(SEED, 'utf8'));
// Thousands of WerFault.exe: a 40-deep chain, and a tree fanning out 4-fold over 6 levels.
const STORM: DumpSpec = { seed: 99, processes: 300, chains: [{ depth: 40, branching: 3 }, { depth: 6, branching: [1, 4, 4, 4, 4, 3] }], wow64: true };
const storm = generated(STORM);
// Shapes the generator would take long to print: built as findings directly.
const KINDS = ['command-line', 'waiting', 'parentage'] as const;

/**
 * A report whose finding is a tree under each root: `fanout[i]` reporters under each node of level
 * i; evidence varies with the pid; every 7th reporter has a conflicting parentage.
 */
function synthetic(source: string, roots: { pid: number; image: string | null; present: boolean; fanout: number[] }[]): Report {
  const chains: ReportFinding['chains'] = [];
  const processes: Report['processes'] = [];
  let next = 1000;
  for (const root of roots) {
    if (root.present) processes.push(process(root.pid, root.image));
    const walk = (path: number[], level: number): void => {
      if (level === root.fanout.length) {
        chains.push({
          root: { pid: root.pid, image: root.image, present: root.present, exceptionStack: null, faultingFrame: null, note: root.present ? 'no exception frames' : `process ${root.pid} is not in the dump` },
          reporters: path,
          length: path.length,
          evidence: path.map((pid) => KINDS.filter((_, k) => (pid >> k) % 2 === 1 || k === 2)),
          conflicts: path.filter((pid) => pid % 7 === 0).map((pid) => ({ reporterPid: pid, kind: 'parentage' as const, targetPid: 4 })),
        });
        return;
      }
      for (let i = 0; i < root.fanout[level]; i++) {
        const pid = next++ * 4;
        processes.push(process(pid, 'WerFault.exe'));
        walk([...path, pid], level + 1);
      }
    };
    walk([], 0);
  }
  const werFaults = processes.filter((p) => p.image === 'WerFault.exe').length;
  const depth = Math.max(...chains.map((c) => c.length));
  return {
    ...seed,
    source,
    processes,
    stacks: [],
    findings: [{ pattern: 'error-reporting-fault', severity: 'critical', summary: `synthetic: ${chains.length} chains, deepest ${depth}`, werFaultProcesses: werFaults, chains, signature: null }],
  };
}

function process(pid: number, image: string | null): Report['processes'][number] {
  return { address: null, pid, parentPid: null, image, sessionId: 1, handleCount: 10, commandLine: `C:\\Windows\\System32\\WerFault.exe -u -p ${pid} -s 1`, threads: [] };
}

const shapes = [
  // Branches at every level, deeper than the columns.
  synthetic('binary', [{ pid: 2672, image: 'dllhost.exe', present: true, fanout: [1, 2, 2, 2, 2, 2, 2, 2, 2, 2] }]),
  // One chain 3000 deep.
  synthetic('deep', [{ pid: 8, image: null, present: false, fanout: new Array<number>(3000).fill(1) }]),
  // 200 reporters on the root, 10 on each of them.
  synthetic('wide', [{ pid: 12, image: 'MsMpEng.exe', present: true, fanout: [200, 10] }]),
  // Several original faults, a long run under a branch.
  synthetic('several', [
    { pid: 16, image: 'a.exe', present: true, fanout: [3, 1, 1, 1, 1, 1, 1, 1, 4] },
    { pid: 20, image: 'b.exe', present: false, fanout: [2, 2] },
    { pid: 24, image: 'c.exe', present: true, fanout: [1, 1] },
  ]),
];

const reporters = (l: TreeLayout): DrawnNode[] => l.nodes.filter((n) => n.kind === 'reporter');

/** WerFault.exe a box stands for: itself, the levels it folds, or the reporters it summarises. */
function werFaultsOf(n: DrawnNode): number {
  if (n.kind === 'reporter') return 1;
  if (n.kind === 'fold') return n.levels + n.hiddenWerFaults;
  if (n.kind === 'more') return n.hiddenWerFaults;
  return 0;
}

describe('layout of the chains', () => {
  it('draws the seed whole: roots 163000 and 292360 not in the dump, nine WerFault.exe, their evidence', () => {
    const ls = layoutFinding(seed.findings[0], seed);
    expect(ls.map((l) => [l.root.pid, l.root.present])).toEqual([
      [163000, false],
      [292360, false],
    ]);
    expect(ls.flatMap(reporters).map((n) => n.pid).sort((a, b) => a! - b!)).toEqual([70700, 130124, 185288, 189240, 211012, 252088, 261804, 294940, 297200]);
    expect(ls.flatMap((l) => l.nodes).filter((n) => n.kind === 'fold' || n.kind === 'more')).toEqual([]);
    const byPid = new Map(ls.flatMap(reporters).map((n) => [n.pid, n]));
    expect(byPid.get(185288)!.evidence).toEqual(['command-line']);
    expect(byPid.get(211012)!.evidence).toEqual(['waiting', 'parentage']);
    expect(byPid.get(294940)!.evidence).toEqual(['parentage']);
    expect(byPid.get(185288)!.parent!.pid).toBe(189240);
    expect(ls[1].deepestChain).toEqual([189240, 185288, 211012]);
  });

  it.each([7, 12, 25, 60, 150])('keeps to a budget of %i boxes per original fault, losing no WerFault.exe', (maxNodes) => {
    for (const r of [storm, ...shapes]) {
      const ls = layoutFinding(r.findings[0], r, { maxNodes });
      expect(ls.reduce((n, l) => n + l.werFaults, 0)).toBe(r.findings[0].werFaultProcesses);
      for (const l of ls) {
        expect(l.nodes.length - 1).toBeLessThanOrEqual(maxNodes);
        expect(Math.max(...l.nodes.map((n) => n.col))).toBeLessThanOrEqual(6);
        // Every WerFault.exe of the tree is a box, in a fold, or counted in a summary.
        expect(l.nodes.reduce((n, x) => n + werFaultsOf(x), 0)).toBe(l.werFaults);
        // Chains are conserved at every box with children.
        for (const n of l.nodes) {
          if (n.children.length === 0) continue;
          const below = n.children.reduce((s, c) => s + c.chains, 0) + (n.kind === 'fold' ? n.hiddenReporters : 0);
          expect(below).toBe(n.chains);
        }
        // Boxes do not overlap.
        const boxes = [...l.nodes].sort((a, b) => a.x - b.x || a.y - b.y);
        for (let i = 1; i < boxes.length; i++) {
          const a = boxes[i - 1];
          const b = boxes[i];
          if (a.x === b.x) expect(b.y).toBeGreaterThanOrEqual(a.y + a.h);
        }
      }
    }
  });

  it('uses a big budget when it has one', () => {
    const l = layoutFinding(storm.findings[0], storm, { maxNodes: 150 })[0];
    expect(l.nodes.length - 1).toBeGreaterThan(100);
    expect(reporters(l).length).toBeGreaterThan(50);
  });

  it('always draws the deepest chain, folded where it is too long', () => {
    for (const r of [storm, ...shapes]) {
      for (const maxNodes of [7, 60]) {
        for (const l of layoutFinding(r.findings[0], r, { maxNodes })) {
          const path = l.nodes.filter((n) => n.deepest);
          // A path from the root, one box per column, each hanging from the one before.
          path.forEach((n, i) => {
            expect(n.col).toBe(i + 1);
            expect(n.parent).toBe(i === 0 ? l.nodes[0] : path[i - 1]);
          });
          expect(path[path.length - 1].children).toEqual([]);
          expect(path.reduce((d, n) => d + (n.kind === 'fold' ? n.levels : 1), 0)).toBe(l.depth);
          expect(path[0].pid).toBe(l.deepestChain[0]);
          expect(path[path.length - 1].pid).toBe(l.deepestChain[l.deepestChain.length - 1]);
          expect(l.deepestChain).toHaveLength(l.depth);
        }
      }
    }
    const deep = layoutFinding(shapes[1].findings[0], shapes[1])[0];
    expect(deep.depth).toBe(3000);
    expect(deep.nodes.map((n) => n.kind)).toEqual(['root', 'reporter', 'fold', 'reporter']);
    expect(deep.nodes[2].levels).toBe(2998);
  });

  it('folds runs of single reporters and summarises the rest of a storm', () => {
    const [big, deep] = layoutFinding(storm.findings[0], storm);
    expect(big.root).toMatchObject({ image: 'javaw.exe', present: true });
    expect(big.werFaults).toBeGreaterThan(1000);
    const more = big.nodes.filter((n) => n.kind === 'more');
    expect(more.length).toBeGreaterThan(5);
    expect(more.reduce((n, m) => n + m.hiddenWerFaults, 0) + reporters(big).length).toBe(big.werFaults);
    expect(deep.depth).toBe(40);
    expect(deep.nodes.filter((n) => n.kind === 'fold').map((n) => n.levels)).toEqual([37]);
  });

  it('marks reporters whose evidence conflicts', () => {
    const l = layoutFinding(shapes[0].findings[0], shapes[0])[0];
    expect(l.conflicts.length).toBeGreaterThan(0);
    const marked = l.nodes.filter((n) => n.conflicts.length > 0);
    expect(marked.length).toBeGreaterThan(0);
    for (const n of marked) expect(l.conflicts.some((c) => c.reporterPid === n.pid)).toBe(true);
    const html = renderHtml(shapes[0]);
    expect(html).toContain('class="node reporter conflict"');
    expect(html).toMatch(/conflict: the parentage of \d+ WerFault\.exe/);
  });
});

describe('the HTML page', () => {
  it('is self-contained: inline SVG and CSS, no script, nothing fetched', () => {
    const html = renderHtml(storm);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|@import|url\(/i);
    expect(html).not.toMatch(/href="(?!#)/);
    expect(html).toContain('<svg class="tree"');
    expect(html.length).toBeLessThan(400_000);
  });

  it('says what the seed holds: header, trees, evidence, legend, notes', () => {
    const html = renderHtml(seed);
    expect(html).toContain('<h2>seed</h2>');
    expect(html).toContain('<p class="signature">Signature <code>v1:&lt;unknown-root&gt;</code></p>');
    expect(html).toContain('>HIGH<');
    expect(html).toContain('Original fault: (image unknown) pid 163000 (Cid 27cb8), not in the dump');
    expect((html.match(/class="node reporter/g) ?? []).length).toBe(9);
    expect((html.match(/class="node root/g) ?? []).length).toBe(2);
    expect(html).toContain('data-evidence="waiting parentage"');
    expect(html).toContain('data-evidence="command-line"');
    for (const k of ['command-line', 'waiting', 'parentage']) expect(html).toContain(`class="legend-evidence" data-evidence="${k}"`);
    expect(html).toContain('No exception stack: process 163000 is not in the dump');
  });

  it('lists the exception stack of a root under its tree', () => {
    const html = renderHtml(storm);
    expect(html).toContain('Exception stack of javaw.exe (pid 34272, Cid 85e0)');
    expect(html).toMatch(/<li class="exception">ntdll!KiUserExceptionDispatcher\+0xf<\/li>/);
  });

  it('makes one page of several reports, a section each', () => {
    const html = renderHtmlPage([seed, storm]);
    expect(html.match(/<!DOCTYPE html>/g)).toHaveLength(1);
    expect(html).toContain('<section class="report" id="report-1" data-source="seed">');
    expect(html).toContain('<a href="#report-2">generated seed 99</a>');
  });

  it('says when there is no Error Reporting Fault', () => {
    const r = reportOf('quiet', proc('fffffa8000000100', 0x100, 4, 'app.exe') + proc('fffffa8000000200', 0x200, 0x100, 'WerFault.exe'));
    expect(renderHtml(r)).toContain('No Error Reporting Fault');
  });
});

describe('escaping', () => {
  const evil = '<script>alert(1)</script>.exe';
  const text =
    proc('fffffa8000000100', 0x100, 4, evil) +
    proc('fffffa8000000200', 0x200, 0x100, 'WerFault.exe') +
    proc('fffffa8000000300', 0x300, 0x200, 'WerFault.exe') +
    proc('fffffa8000000400', 0x400, 0x300, 'WerFault.exe');

  it('escapes an image name from the transcript', () => {
    const r = reportOf('<img src=x onerror=alert(2)>.txt', text);
    expect(r.findings[0].chains[0].root.image).toBe(evil);
    for (const out of [renderHtml(r), renderSvg(r)]) {
      expect(out).not.toMatch(/<script|<img/i);
      expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.exe');
      expect(out).toContain('&lt;img src=x onerror=alert(2)&gt;.txt');
    }
  });

  it('escapes every string of a report, wherever it is drawn', () => {
    const payload = '"\'><script>alert(3)</script><svg onload=alert(4)>&amp;';
    // Every free-text string of the report replaced by the payload (kinds and enums kept).
    const keep = new Set(['schema', 'status', 'pattern', 'severity', 'kind', 'mode', 'type']);
    const poison = (v: unknown, key = ''): unknown => {
      if (typeof v === 'string') return keep.has(key) ? v : `${v}${payload}`;
      if (Array.isArray(v)) return key === 'evidence' ? v : v.map((x) => poison(x));
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, poison(x, k)]));
      return v;
    };
    for (const r of [seed, storm, shapes[0]]) {
      const bad = poison(r) as Report;
      bad.findings[0].chains.forEach((c) => (c.evidence = c.evidence.map((e) => [...e])));
      for (const out of [renderHtml(bad), renderHtmlPage([bad, bad]), renderSvg(bad)]) {
        expect(out).not.toMatch(/<script|<svg onload|<img/i);
        expect(out).toContain(esc(payload));
      }
    }
  });

  it('replaces characters XML forbids, so the SVG stays a document', () => {
    expect(esc('a\u0000b\u001bc\ud800d&<>"\'')).toBe('a\ufffdb\ufffdc\ufffdd&amp;&lt;&gt;&quot;&#39;');
    expect(esc('😀')).toBe('😀');
  });
});
