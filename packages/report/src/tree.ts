import type { EvidenceKind } from '@dumpstream/graph';
import type { Report, ReportFinding } from './report';

/**
 * The picture of a finding's chains: for each original fault, the tree of its reporters cut to a
 * node budget, with long runs of single reporters folded and the deepest chain always drawn. Pure
 * geometry; svg.ts draws it. Nothing here recurses over the full tree (storms can be thousands deep).
 */

/** Evidence kinds in the order lanes are drawn (strongest first, as the graph ranks them). */
export const EVIDENCE_ORDER: readonly EvidenceKind[] = ['command-line', 'waiting', 'parentage'];

export interface TreeOptions {
  /** Boxes drawn per original fault besides the root: reporters, folds and "+N reporters" summaries. */
  maxNodes?: number;
  /** Columns of boxes right of the root; a deeper drawn chain is folded in the middle. */
  maxColumns?: number;
  /** A run of at least this many WerFault.exe, each the only reporter on the one before, is folded. */
  foldRuns?: number;
}

export const TREE_DEFAULTS = { maxNodes: 60, maxColumns: 6, foldRuns: 4 } as const;

type Chain = ReportFinding['chains'][number];
export type TreeRoot = Chain['root'];

/** One WerFault.exe of the full tree. */
interface FullNode {
  pid: number;
  /** Evidence of the link from this reporter to the process it reports on. */
  evidence: EvidenceKind[];
  parent: FullNode | null;
  children: FullNode[];
  byPid: Map<number, FullNode>;
  depth: number;
  /** Chains through this node (leaf reporters below it, itself included). */
  leaves: number;
  /** WerFault.exe in its subtree, itself included. */
  size: number;
  /** Levels below it. */
  height: number;
}

/** A box of the compressed tree: one reporter, or a fold of several levels. */
interface Item {
  kind: 'root' | 'reporter' | 'fold';
  first: FullNode;
  last: FullNode;
  /** Levels the item stands for (1 for a reporter). */
  levels: number;
  /** In a fold that cuts through branches: chains and WerFault.exe that leave inside it, not drawn. */
  branchedChains: number;
  branchedReporters: number;
  parent: Item | null;
  children: Item[];
  col: number;
  deepest: boolean;
}

export type DrawnKind = 'root' | 'reporter' | 'fold' | 'more';

/** A box as drawn: position (top-left), size and what it says. */
export interface DrawnNode {
  id: number;
  kind: DrawnKind;
  col: number;
  x: number;
  y: number;
  w: number;
  h: number;
  parent: DrawnNode | null;
  children: DrawnNode[];
  /** reporter: its pid; fold: the first folded pid; root: the root's pid (null when unknown). */
  pid: number | null;
  /** fold: the last folded pid. */
  lastPid: number | null;
  image: string | null;
  commandLine: string | null;
  /** Evidence of the link into this box from its parent (reporter, fold); empty for root and more. */
  evidence: EvidenceKind[];
  /** Evidence of this reporter that pointed elsewhere and was overruled. */
  conflicts: { kind: EvidenceKind; targetPid: number }[];
  /** On the deepest chain. */
  deepest: boolean;
  /** Chains through the box (reporter, fold) or summarised by it (more). */
  chains: number;
  /** fold: levels folded; more: levels below the summarised reporters. */
  levels: number;
  /** more: reporters directly under the parent that are not drawn; fold: chains leaving inside it. */
  hiddenReporters: number;
  /** more: WerFault.exe in the summarised subtrees; fold: WerFault.exe on branches inside it. */
  hiddenWerFaults: number;
}

/** One original fault's picture. */
export interface TreeLayout {
  root: TreeRoot;
  width: number;
  height: number;
  nodes: DrawnNode[];
  /** Chains ending at this root, WerFault.exe in its tree and its deepest chain's length. */
  chains: number;
  werFaults: number;
  depth: number;
  /** The deepest chain's reporters, from the original fault out. */
  deepestChain: number[];
  /** Every conflict of the tree's chains (also of reporters not drawn). */
  conflicts: { reporterPid: number; kind: EvidenceKind; targetPid: number }[];
  /** The image of each process a conflict points at that is in the dump (absent: not in the dump). */
  conflictTargets: Map<number, string | null>;
  /** Reporters drawn as their own box. */
  drawnReporters: number;
}

/** Geometry in CSS pixels. */
export const GEOMETRY = {
  margin: 14,
  rootW: 196,
  rootH: 60,
  nodeW: 172,
  nodeH: 38,
  gap: 86,
  trunk: 12,
  rowPitch: 46,
} as const;

/** Lays out every original fault of a finding, biggest tree first. */
export function layoutFinding(finding: ReportFinding, report: Pick<Report, 'processes'>, options: TreeOptions = {}): TreeLayout[] {
  const byRoot = new Map<string, Chain[]>();
  for (const c of finding.chains) {
    const key = c.root.pid === null ? `unknown:${c.reporters[0]}` : String(c.root.pid);
    const list = byRoot.get(key);
    if (list) list.push(c);
    else byRoot.set(key, [c]);
  }
  const processes = new Map<number, { image: string | null; commandLine: string | null }>();
  for (const p of report.processes) if (p.pid !== null && !processes.has(p.pid)) processes.set(p.pid, { image: p.image, commandLine: p.commandLine });
  const layouts = [...byRoot.values()].map((chains) => layoutRoot(chains, processes, options));
  return layouts.sort((a, b) => b.werFaults - a.werFaults || b.depth - a.depth);
}

/** Lays out the chains of one original fault (they must share the root). */
export function layoutRoot(
  chains: readonly Chain[],
  processes: Map<number, { image: string | null; commandLine: string | null }>,
  options: TreeOptions = {},
): TreeLayout {
  const maxNodes = Math.max(7, Math.floor(options.maxNodes ?? TREE_DEFAULTS.maxNodes));
  const maxColumns = Math.max(3, Math.floor(options.maxColumns ?? TREE_DEFAULTS.maxColumns));
  const foldRuns = Math.max(2, Math.floor(options.foldRuns ?? TREE_DEFAULTS.foldRuns));
  const root = chains[0].root;

  // The full tree: chains sharing prefixes merge.
  const top: FullNode = { pid: root.pid ?? -1, evidence: [], parent: null, children: [], byPid: new Map(), depth: 0, leaves: 0, size: 0, height: 0 };
  const conflicts: TreeLayout['conflicts'] = [];
  const conflictsOf = new Map<number, { kind: EvidenceKind; targetPid: number }[]>();
  const seenConflict = new Set<string>();
  const all: FullNode[] = [];
  for (const c of chains) {
    let node = top;
    c.reporters.forEach((pid, i) => {
      let next = node.byPid.get(pid);
      if (!next) {
        next = { pid, evidence: sortEvidence(c.evidence[i] ?? []), parent: node, children: [], byPid: new Map(), depth: node.depth + 1, leaves: 0, size: 0, height: 0 };
        node.byPid.set(pid, next);
        node.children.push(next);
        all.push(next);
      }
      node = next;
    });
    for (const k of c.conflicts) {
      const key = `${k.reporterPid}:${k.kind}:${k.targetPid}`;
      if (seenConflict.has(key)) continue;
      seenConflict.add(key);
      conflicts.push(k);
      const list = conflictsOf.get(k.reporterPid) ?? [];
      list.push({ kind: k.kind, targetPid: k.targetPid });
      conflictsOf.set(k.reporterPid, list);
    }
  }
  // Sizes bottom-up: `all` is in creation order, so every child comes after its parent.
  for (let i = all.length - 1; i >= 0; i--) {
    const n = all[i];
    if (n.children.length === 0) n.leaves = 1;
    n.size += 1;
    const p = n.parent!;
    p.leaves += n.leaves;
    p.size += n.size;
    p.height = Math.max(p.height, n.height + 1);
  }
  const order = (a: FullNode, b: FullNode): number => b.leaves - a.leaves || b.height - a.height || a.pid - b.pid;
  for (const n of [top, ...all]) n.children.sort(order);

  // The deepest chain: from the top, always into the child with the most levels below.
  const deepestFull = new Set<FullNode>();
  const deepestChain: number[] = [];
  for (let n = top; n.children.length > 0; ) {
    n = n.children.reduce((best, c) => (c.height > best.height ? c : best));
    deepestFull.add(n);
    deepestChain.push(n.pid);
  }

  // The compressed tree: runs of single reporters become folds.
  const rootItem: Item = { kind: 'root', first: top, last: top, levels: 0, branchedChains: 0, branchedReporters: 0, parent: null, children: [], col: 0, deepest: true };
  const stack: [FullNode, Item][] = top.children.map((c) => [c, rootItem] as [FullNode, Item]).reverse();
  while (stack.length > 0) {
    const [x, parent] = stack.pop()!;
    const item = newItem('reporter', x, x, 1, parent);
    item.deepest = deepestFull.has(x);
    let from: Item = item;
    let next: FullNode[] = x.children;
    if (x.children.length === 1) {
      const interior: FullNode[] = [];
      let y = x.children[0];
      while (y.children.length === 1) {
        interior.push(y);
        y = y.children[0];
      }
      if (interior.length >= foldRuns) {
        const fold = newItem('fold', interior[0], interior[interior.length - 1], interior.length, item);
        fold.deepest = deepestFull.has(interior[0]);
        from = fold;
        next = [y];
      }
    }
    for (let i = next.length - 1; i >= 0; i--) stack.push([next[i], from]);
  }

  // The deepest chain in boxes; when it is wider than the columns, fold its middle too.
  // Each box of it but the last may need a summary beside it, so it takes at most half the budget.
  const pathColumns = Math.min(maxColumns, Math.floor(maxNodes / 2));
  const path: Item[] = [];
  for (let it: Item | undefined = rootItem.children.find((c) => c.deepest); it; it = it.children.find((c) => c.deepest)) path.push(it);
  if (path.length > pathColumns) {
    const head = Math.ceil((pathColumns - 1) / 2);
    const tail = pathColumns - 1 - head;
    const middle = path.slice(head, path.length - tail);
    const after = path[path.length - tail];
    const parent = head === 0 ? rootItem : path[head - 1];
    const first = middle[0].first;
    const last = middle[middle.length - 1].last;
    const levels = last.depth - first.depth + 1;
    const fold = newItem('fold', first, last, levels, null);
    fold.deepest = true;
    fold.parent = parent;
    parent.children[parent.children.indexOf(middle[0])] = fold;
    fold.children = [after];
    after.parent = fold;
    fold.branchedChains = first.leaves - after.first.leaves;
    fold.branchedReporters = first.size - after.first.size - levels;
    path.splice(head, middle.length, fold);
  }
  // Columns, breadth first from the root.
  const queue: Item[] = [rootItem];
  for (let i = 0; i < queue.length; i++) for (const c of queue[i].children) {
    c.col = queue[i].col + 1;
    queue.push(c);
  }

  // What is drawn: the deepest chain, then the boxes through which most chains run, while the
  // boxes plus the "+N reporters" summaries they leave fit the budget.
  const visible = new Set<Item>([rootItem]);
  const hidden = new Map<Item, number>([[rootItem, rootItem.children.length]]);
  let boxes = 0;
  let summaries = rootItem.children.length > 0 ? 1 : 0;
  const show = (it: Item): void => {
    visible.add(it);
    boxes++;
    const p = it.parent!;
    const h = hidden.get(p)! - 1;
    hidden.set(p, h);
    if (h === 0) summaries--;
    hidden.set(it, it.children.length);
    if (it.children.length > 0) summaries++;
  };
  for (const it of path) show(it);
  const heap = new Heap<Item>((a, b) => b.first.leaves - a.first.leaves || b.first.height - a.first.height || a.first.pid - b.first.pid);
  const offer = (it: Item): void => {
    for (const c of it.children) if (!visible.has(c)) heap.push(c);
  };
  offer(rootItem);
  for (const it of path) offer(it);
  for (let c = heap.pop(); c !== undefined; c = heap.pop()) {
    const hasChildren = c.children.length > 0;
    if (c.col + (hasChildren ? 1 : 0) > maxColumns) continue;
    const after = boxes + 1 + summaries - (hidden.get(c.parent!) === 1 ? 1 : 0) + (hasChildren ? 1 : 0);
    if (after > maxNodes) continue;
    show(c);
    offer(c);
  }

  // Boxes, with a summary under each drawn box whose children are not all drawn.
  const nodes: DrawnNode[] = [];
  const info = (pid: number) => processes.get(pid) ?? { image: null, commandLine: null };
  const drawn = new Map<Item, DrawnNode>();
  for (const it of queue) {
    if (!visible.has(it)) continue;
    const parent = it.parent ? drawn.get(it.parent)! : null;
    const pi = it.kind === 'root' ? { image: root.image, commandLine: root.pid === null ? null : info(root.pid).commandLine } : info(it.first.pid);
    const node = drawnNode(nodes, it.kind, it.col, parent, {
      pid: it.kind === 'root' ? root.pid : it.first.pid,
      lastPid: it.kind === 'fold' ? it.last.pid : null,
      image: it.kind === 'fold' ? null : pi.image,
      commandLine: it.kind === 'fold' ? null : pi.commandLine,
      evidence: it.kind === 'root' ? [] : it.first.evidence,
      conflicts: it.kind === 'reporter' ? conflictsOf.get(it.first.pid) ?? [] : [],
      deepest: it.deepest && it.kind !== 'root',
      chains: it.first.leaves,
      levels: it.levels,
      hiddenReporters: it.branchedChains,
      hiddenWerFaults: it.branchedReporters,
    });
    drawn.set(it, node);
  }
  for (const it of queue) {
    const node = drawn.get(it);
    if (!node) continue;
    const rest = it.children.filter((c) => !visible.has(c));
    if (rest.length === 0) continue;
    drawnNode(nodes, 'more', it.col + 1, node, {
      pid: null,
      lastPid: null,
      image: null,
      commandLine: null,
      evidence: [],
      conflicts: [],
      deepest: false,
      chains: rest.reduce((n, c) => n + c.first.leaves, 0),
      levels: rest.reduce((m, c) => Math.max(m, c.first.height + 1), 0),
      hiddenReporters: rest.length,
      hiddenWerFaults: rest.reduce((n, c) => n + c.first.size, 0),
    });
  }
  // Summaries last among their siblings; otherwise the order of the full tree (most chains first).
  const rank = new Map<DrawnNode, number>();
  nodes.forEach((n, i) => rank.set(n, n.kind === 'more' ? Number.MAX_SAFE_INTEGER : i));
  for (const n of nodes) n.children.sort((a, b) => rank.get(a)! - rank.get(b)!);

  const size = place(nodes[0]);
  return {
    root,
    width: size.width,
    height: size.height,
    nodes,
    chains: top.leaves,
    werFaults: top.size,
    depth: top.height,
    deepestChain,
    conflicts,
    conflictTargets: new Map(conflicts.filter((c) => processes.has(c.targetPid)).map((c) => [c.targetPid, processes.get(c.targetPid)!.image])),
    drawnReporters: nodes.filter((n) => n.kind === 'reporter').length,
  };

  function newItem(kind: Item['kind'], first: FullNode, last: FullNode, levels: number, parent: Item | null): Item {
    const it: Item = { kind, first, last, levels, branchedChains: 0, branchedReporters: 0, parent, children: [], col: 0, deepest: false };
    parent?.children.push(it);
    return it;
  }
}

function drawnNode(
  nodes: DrawnNode[],
  kind: DrawnKind,
  col: number,
  parent: DrawnNode | null,
  rest: Omit<DrawnNode, 'id' | 'kind' | 'col' | 'x' | 'y' | 'w' | 'h' | 'parent' | 'children'>,
): DrawnNode {
  const root = kind === 'root';
  const node: DrawnNode = { id: nodes.length, kind, col, x: 0, y: 0, w: root ? GEOMETRY.rootW : GEOMETRY.nodeW, h: root ? GEOMETRY.rootH : GEOMETRY.nodeH, parent, children: [], ...rest };
  parent?.children.push(node);
  nodes.push(node);
  return node;
}

/** Tidy left-to-right placement: leaves on consecutive rows, parents centred on their children. */
function place(root: DrawnNode): { width: number; height: number } {
  const g = GEOMETRY;
  let row = 0;
  let maxCol = 0;
  const centre = new Map<DrawnNode, number>();
  const visit = (n: DrawnNode): number => {
    maxCol = Math.max(maxCol, n.col);
    let c: number;
    if (n.children.length === 0) c = row++;
    else {
      const rows = n.children.map(visit);
      c = (rows[0] + rows[rows.length - 1]) / 2;
    }
    centre.set(n, c);
    return c;
  };
  visit(root);
  const rows = Math.max(row, 1);
  const top = g.margin + Math.max(0, (g.rootH - g.nodeH) / 2);
  for (const [n, c] of centre) {
    n.x = n.col === 0 ? g.margin : g.margin + g.rootW + g.gap + (n.col - 1) * (g.nodeW + g.gap);
    n.y = top + c * g.rowPitch + (g.nodeH - n.h) / 2;
  }
  const width = maxCol === 0 ? 2 * g.margin + g.rootW : g.margin * 2 + g.rootW + maxCol * (g.nodeW + g.gap);
  const height = Math.max(top + (rows - 1) * g.rowPitch + g.nodeH + g.margin, 2 * g.margin + g.rootH);
  return { width, height };
}

function sortEvidence(kinds: readonly EvidenceKind[]): EvidenceKind[] {
  return EVIDENCE_ORDER.filter((k) => kinds.includes(k));
}

/** A binary heap; `before(a, b) < 0` when a comes out first. */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => number) {}
  push(x: T): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (this.before(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.before(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
