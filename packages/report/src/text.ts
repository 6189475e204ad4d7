import type { Report, ReportFinding } from './report';
import { conflictLines, exceptionStackLines, faultingFrameText, FAULTING_MARK } from './rootLines';

/**
 * A run of single reporters (each the only one reporting on the one before) is folded into one
 * line only from this many levels: folding a short chain saves a line or two and hides the pids
 * a reader wants; a storm's chains of tens or hundreds are what folding is for.
 */
export const FOLD_RUN = 16;

/** How much of a storm the text report draws before it summarises. */
export interface TextOptions {
  /** Children drawn under one node before the rest are summarised. */
  maxChildren?: number;
  /** Lines each original fault's tree may take before the rest is summarised. */
  maxLines?: number;
  /** Frames of the root's exception stack drawn. */
  maxFrames?: number;
}

interface TreeNode {
  pid: number;
  evidence: string[];
  children: Map<number, TreeNode>;
  leaves: number;
}

/** Renders a report for a person: a short summary, the chains as trees, the root's exception stack. */
export function renderText(report: Report, options: TextOptions = {}): string {
  const maxChildren = options.maxChildren ?? 4;
  const maxLines = options.maxLines ?? 30;
  const maxFrames = options.maxFrames ?? 24;
  const out: string[] = [];
  const s = report.system;
  const st = report.stats;
  out.push(`${report.source}  (dump ${report.dumpId.slice(0, 12)})`);
  const sys = [
    s.os && `${s.os}${s.osBuild ? ` build ${s.osBuild}` : ''}${s.servicePack ? ` SP${s.servicePack}` : ''}`,
    s.processors !== undefined && `${s.processors} processors`,
    s.arch,
    s.dumpType,
    s.mode && `${s.mode} mode`,
    s.sessionTime && `session ${s.sessionTime}`,
  ].filter(Boolean);
  if (sys.length > 0) out.push(`  ${sys.join(' · ')}`);
  out.push(
    `  ${plural(st.lines, 'line')}, ${plural(st.processes, 'process', 'processes')}, ${plural(st.threads, 'thread')}, ${plural(st.frames, 'frame')}; ` +
      `${st.unparsedLines} line${st.unparsedLines === 1 ? '' : 's'} not understood${st.unparsedLines > 0 ? ' (analyze --unparsed lists them)' : ''}, ${plural(st.warnings, 'warning')}`,
  );
  for (const w of report.warnings.slice(0, 5)) out.push(`  warning: line ${w.line}: ${w.kind}: ${w.text}`);
  if (report.warnings.length > 5 || st.warnings > 5) out.push(`  … ${st.warnings - Math.min(5, report.warnings.length)} more warnings (see --format json)`);
  if (report.findings.length === 0) {
    out.push('  no Error Reporting Fault: no WerFault.exe reports on another WerFault.exe');
  }
  for (const f of report.findings) renderFinding(f, report, out, maxChildren, maxLines, maxFrames);
  return out.join('\n') + '\n';
}

function renderFinding(f: ReportFinding, report: Report, out: string[], maxChildren: number, maxLines: number, maxFrames: number): void {
  out.push(`  ERROR REPORTING FAULT [${f.severity}]`);
  out.push(`  ${f.summary}`);
  if (f.signature !== null) out.push(`  signature: ${f.signature}`);
  const images = new Map<number, string | null>();
  for (const p of report.processes) if (p.pid !== null && !images.has(p.pid)) images.set(p.pid, p.image);

  // Chains sharing a root, and prefixes, are drawn as one tree.
  const roots = new Map<string, { chain: ReportFinding['chains'][number]; tree: TreeNode; chains: number }>();
  for (const c of f.chains) {
    const key = String(c.root.pid);
    let r = roots.get(key);
    if (!r) {
      r = { chain: c, tree: { pid: -1, evidence: [], children: new Map(), leaves: 0 }, chains: 0 };
      roots.set(key, r);
    }
    r.chains++;
    let node = r.tree;
    node.leaves++;
    c.reporters.forEach((pid, i) => {
      let next = node.children.get(pid);
      if (!next) {
        next = { pid, evidence: c.evidence[i] ?? [], children: new Map(), leaves: 0 };
        node.children.set(pid, next);
      }
      next.leaves++;
      node = next;
    });
  }
  // Biggest original fault first (WerFault.exe, then depth), as the summary and the pictures order them.
  const ordered = [...roots.values()]
    .map((r) => ({ ...r, werFaults: countNodes(r.tree), depth: depthBelow(r.tree) }))
    .sort((a, b) => b.werFaults - a.werFaults || b.depth - a.depth);
  let shownRoots = 0;
  for (const { chain, tree, chains, werFaults, depth } of ordered) {
    if (shownRoots++ >= maxChildren * 2) {
      out.push(`  … and ${ordered.length - maxChildren * 2} more original faults, smaller (see --format json)`);
      break;
    }
    const r = chain.root;
    const label = r.pid === null ? 'unknown process' : `${r.image ?? '(image unknown)'} pid ${pidText(r.pid)}${r.present ? '' : ', not in the dump'}`;
    out.push('');
    out.push(`  original fault: ${label}: ${werFaults} WerFault.exe, ${chains} chain${chains === 1 ? '' : 's'}, deepest ${depth}`);
    const budget = { lines: maxLines };
    drawChildren(tree, '    ', out, images, maxChildren, budget);
    if (budget.lines <= 0) {
      // The tree was cut: say what the deepest chain is, folded in the middle.
      const deepest = f.chains.filter((c) => c.root.pid === r.pid).reduce((a, c) => (c.length > a.length ? c : a));
      const pids = deepest.reporters.map((p) => String(p));
      const shown = pids.length <= 9 ? pids.join(' → ') : `${pids.slice(0, 4).join(' → ')} → … ${pids.length - 7} more … → ${pids.slice(-3).join(' → ')}`;
      out.push(`    deepest chain (${deepest.length} WerFault.exe, pids from the original fault out): ${shown}`);
    }
    if (r.exceptionStack) {
      out.push(`    exception stack of ${r.image ?? 'pid ' + r.pid}:`);
      const faulting = faultingFrameText(r);
      if (faulting) out.push(`    ${faulting}`);
      for (const line of exceptionStackLines(r, maxFrames)) out.push(`      ${line.text}${line.faulting ? `   ${FAULTING_MARK}` : ''}`);
    } else if (r.note) {
      out.push(`    note: ${r.note}`);
    }
  }
  for (const line of conflictLines(f.chains.flatMap((c) => c.conflicts), images, 5)) out.push(`  ${line}`);
}

/** Lines a tree may take before the rest of it is summarised; shared down the recursion. */
interface Budget {
  lines: number;
}

/**
 * Draws a node's children, biggest subtrees first. Long runs of single reporters are folded
 * (`… 30 more levels …`); past `maxChildren` siblings, or once the line budget is spent, the rest
 * is summarised in one line, so a storm of thousands stays a screenful.
 */
function drawChildren(node: TreeNode, indent: string, out: string[], images: Map<number, string | null>, maxChildren: number, budget: Budget): void {
  const kids = [...node.children.values()].sort((a, b) => b.leaves - a.leaves || a.pid - b.pid);
  const shown = kids.slice(0, Math.min(maxChildren, Math.max(1, budget.lines)));
  shown.forEach((k, i) => {
    const last = i === shown.length - 1 && kids.length === shown.length;
    out.push(`${indent}${last ? '└─' : '├─'} ${label(k, images)}`);
    budget.lines--;
    const childIndent = indent + (last ? '   ' : '│  ');
    // Fold a long run of single reporters into one line, keeping its last.
    let cur = k;
    let run = 0;
    while (cur.children.size === 1) {
      cur = cur.children.values().next().value as TreeNode;
      run++;
    }
    if (run >= FOLD_RUN) {
      out.push(`${childIndent}│  … ${run - 1} more level${run - 1 === 1 ? '' : 's'} of WerFault.exe, one reporting on the next …`);
      out.push(`${childIndent}└─ ${label(cur, images)}`);
      budget.lines -= 2;
      if (cur.children.size > 0) drawChildren(cur, childIndent + '   ', out, images, maxChildren, budget);
    } else if (budget.lines > 0) {
      drawChildren(k, childIndent, out, images, maxChildren, budget);
    } else if (k.children.size > 0) {
      out.push(`${childIndent}└─ … ${k.leaves} chain${k.leaves === 1 ? '' : 's'} below, ${depthBelow(k)} level${depthBelow(k) === 1 ? '' : 's'} deep`);
    }
  });
  if (kids.length > shown.length) {
    const rest = kids.slice(shown.length);
    const chains = rest.reduce((n, k) => n + k.leaves, 0);
    out.push(`${indent}└─ … ${rest.length} more reporter${rest.length === 1 ? '' : 's'} here, ${chains} more chain${chains === 1 ? '' : 's'}`);
    budget.lines--;
  }
}

function label(k: TreeNode, images: Map<number, string | null>): string {
  const evidence = k.evidence.length > 0 ? `  [${k.evidence.join(', ')}]` : '';
  return `${images.get(k.pid) ?? 'WerFault.exe'} ${pidText(k.pid)}${evidence}`;
}

/** Levels below a node, without recursion (storms can be thousands deep). */
function depthBelow(n: TreeNode): number {
  let best = 0;
  const stack: [TreeNode, number][] = [[n, 0]];
  while (stack.length > 0) {
    const [node, d] = stack.pop()!;
    best = Math.max(best, d);
    for (const c of node.children.values()) stack.push([c, d + 1]);
  }
  return best;
}

/** WerFault.exe in a tree (the root node itself is not one), without recursion. */
function countNodes(n: TreeNode): number {
  let count = 0;
  const stack: TreeNode[] = [n];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const c of node.children.values()) {
      count++;
      stack.push(c);
    }
  }
  return count;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Pids in decimal (as WerFault's -p prints them) and in hex (as the debugger's Cid does). */
function pidText(pid: number): string {
  return `${pid} (Cid ${pid.toString(16)})`;
}
