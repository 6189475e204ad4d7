import type { Report, ReportFinding } from './report';

/** How much of a storm the text report draws before it summarises. */
export interface TextOptions {
  /** Children drawn under one node before the rest are summarised. */
  maxChildren?: number;
  /** Reporters drawn along one path before the middle is elided. */
  maxDepth?: number;
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
  const maxDepth = options.maxDepth ?? 12;
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
    `  ${st.lines} lines, ${st.processes} processes, ${st.threads} threads, ${st.frames} frames; ` +
      `${st.unparsedLines} lines not understood, ${st.warnings} warning${st.warnings === 1 ? '' : 's'}`,
  );
  for (const w of report.warnings.slice(0, 5)) out.push(`  warning: line ${w.line}: ${w.kind}: ${w.text}`);
  if (report.warnings.length > 5 || st.warnings > 5) out.push(`  … ${st.warnings - Math.min(5, report.warnings.length)} more warnings (see --format json)`);
  if (report.findings.length === 0) {
    out.push('  no Error Reporting Fault: no WerFault.exe reports on another WerFault.exe');
  }
  for (const f of report.findings) renderFinding(f, report, out, maxChildren, maxDepth, maxFrames);
  return out.join('\n') + '\n';
}

function renderFinding(f: ReportFinding, report: Report, out: string[], maxChildren: number, maxDepth: number, maxFrames: number): void {
  out.push(`  ERROR REPORTING FAULT [${f.severity}]`);
  out.push(`  ${f.summary}`);
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
  let shownRoots = 0;
  for (const { chain, tree, chains } of roots.values()) {
    if (shownRoots++ >= maxChildren * 2) {
      out.push(`  … and ${roots.size - maxChildren * 2} more original faults (see --format json)`);
      break;
    }
    const r = chain.root;
    const label = r.pid === null ? 'unknown process' : `${r.image ?? '(image unknown)'} pid ${pidText(r.pid)}${r.present ? '' : ', not in the dump'}`;
    out.push('');
    out.push(`  original fault: ${label}  (${chains} chain${chains === 1 ? '' : 's'})`);
    drawChildren(tree, '    ', out, images, maxChildren, maxDepth, 0);
    if (r.exceptionStack) {
      out.push(`    exception stack of ${r.image ?? 'pid ' + r.pid}:`);
      for (const fr of r.exceptionStack.slice(0, maxFrames)) out.push(`      ${fr.callSite}`);
      if (r.exceptionStack.length > maxFrames) out.push(`      … ${r.exceptionStack.length - maxFrames} more frames`);
    } else if (r.note) {
      out.push(`    note: ${r.note}`);
    }
  }
  const conflicts = f.chains.flatMap((c) => c.conflicts);
  const seen = new Set<string>();
  for (const c of conflicts) {
    const k = `${c.reporterPid}:${c.kind}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if (seen.size > 5) break;
    out.push(`  conflict: WerFault.exe ${c.reporterPid}: ${c.kind} points at ${c.targetPid}, overruled by stronger evidence`);
  }
}

function drawChildren(node: TreeNode, indent: string, out: string[], images: Map<number, string | null>, maxChildren: number, maxDepth: number, depth: number): void {
  const kids = [...node.children.values()].sort((a, b) => b.leaves - a.leaves || a.pid - b.pid);
  kids.slice(0, maxChildren).forEach((k, i) => {
    const last = i === Math.min(kids.length, maxChildren) - 1 && kids.length <= maxChildren;
    const evidence = k.evidence.length > 0 ? `  [${k.evidence.join(', ')}]` : '';
    out.push(`${indent}${last ? '└─' : '├─'} ${images.get(k.pid) ?? 'WerFault.exe'} ${pidText(k.pid)}${evidence}`);
    const childIndent = indent + (last ? '   ' : '│  ');
    if (depth + 1 >= maxDepth && k.children.size > 0) {
      const deepest = longest(k);
      out.push(`${childIndent}└─ … ${deepest} more level${deepest === 1 ? '' : 's'} of WerFault.exe, ${k.leaves} chain${k.leaves === 1 ? '' : 's'}`);
      return;
    }
    drawChildren(k, childIndent, out, images, maxChildren, maxDepth, depth + 1);
  });
  if (kids.length > maxChildren) {
    const rest = kids.slice(maxChildren);
    const chains = rest.reduce((n, k) => n + k.leaves, 0);
    out.push(`${indent}└─ … ${rest.length} more reporters here, ${chains} more chain${chains === 1 ? '' : 's'}`);
  }
}

function longest(n: TreeNode): number {
  let best = 0;
  for (const c of n.children.values()) best = Math.max(best, 1 + longest(c));
  return best;
}

/** Pids in decimal (as WerFault's -p prints them) and in hex (as the debugger's Cid does). */
function pidText(pid: number): string {
  return `${pid} (Cid ${pid.toString(16)})`;
}
