import type { EvidenceKind } from '@dumpstream/graph';
import type { Report } from './report';
import { conflictLines, exceptionStackLines, faultingFrameText, FAULTING_MARK } from './rootLines';
import { EVIDENCE_ORDER, GEOMETRY, layoutFinding, type DrawnNode, type TreeLayout, type TreeOptions } from './tree';

/**
 * SVG drawing of the chains' trees, shared by the HTML page and the standalone SVG. Every string
 * from a report goes through `esc`; styles are presentation attributes, so the markup needs no
 * stylesheet and no script.
 */

/** Text for an element or a quoted attribute: markup characters escaped, characters XML forbids replaced. */
export function esc(s: string | number | null | undefined): string {
  return String(s ?? '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** How each kind of evidence is drawn. */
export const EVIDENCE_STYLE: Record<EvidenceKind, { colour: string; dash: string | null; label: string; meaning: string }> = {
  'command-line': { colour: '#1c7ed6', dash: null, label: 'command-line', meaning: "the reporter's -p <pid> names the process" },
  waiting: { colour: '#e8590c', dash: '7 3', label: 'waiting', meaning: "a thread of the process waits on the reporter's ProcessObject" },
  parentage: { colour: '#2f9e44', dash: '2 2.5', label: 'parentage', meaning: "the reporter's ParentCid is the process" },
};

const FONT = "'DejaVu Sans', 'Segoe UI', Verdana, Arial, sans-serif";
const MONO = "'DejaVu Sans Mono', Consolas, 'Courier New', monospace";
const GOLD = '#f59f00';
/** Width of one character at 1px (DejaVu Sans is wide; this errs on the wide side). */
const EM = 0.6;
const BOLD_EM = 0.64;

export function pidHex(pid: number): string {
  return pid.toString(16);
}

/** Cuts a string to what fits in `width` pixels at `size`, with an ellipsis. */
export function fit(s: string, width: number, size: number, bold = false): string {
  const n = Math.max(1, Math.floor(width / (size * (bold ? BOLD_EM : EM))));
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The drawing of one original fault's tree: an `<svg>` element sized to its layout. */
export function treeSvg(layout: TreeLayout, options: { standalone?: boolean; title?: string; style?: string } = {}): string {
  const out: string[] = [];
  const ns = options.standalone ? ' xmlns="http://www.w3.org/2000/svg"' : '';
  const style = options.style ? ` style="${esc(options.style)}"` : '';
  out.push(
    `<svg${ns} class="tree"${style} width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" ` +
      `font-family="${esc(FONT)}" role="img" aria-label="${esc(options.title ?? 'WerFault.exe chains')}" data-nodes="${layout.nodes.length}" data-reporters="${layout.drawnReporters}">`,
  );
  if (options.title) out.push(`<title>${esc(options.title)}</title>`);
  out.push(treeBody(layout));
  out.push('</svg>');
  return out.join('\n');
}

/** The tree's elements without the enclosing `<svg>` (edges first, so boxes sit on top). */
export function treeBody(layout: TreeLayout): string {
  const out: string[] = [];
  const g = GEOMETRY;
  // Trunks: from each parent to the height of its children.
  out.push('<g class="trunks" fill="none" stroke="#adb5bd" stroke-width="1.5">');
  for (const p of layout.nodes) {
    if (p.children.length === 0) continue;
    const px = p.x + p.w;
    const py = p.y + p.h / 2;
    const ys = [py, ...p.children.map((c) => c.y + c.h / 2)];
    out.push(`<path d="M${px} ${py}H${px + g.trunk}M${px + g.trunk} ${Math.min(...ys)}V${Math.max(...ys)}"/>`);
  }
  out.push('</g>');
  // The deepest chain's way through the trunks, in gold.
  out.push(`<g class="deepest-trunk" fill="none" stroke="${GOLD}" stroke-width="3" stroke-linejoin="round">`);
  for (const n of layout.nodes) {
    if (!n.deepest || !n.parent) continue;
    const p = n.parent;
    const px = p.x + p.w;
    out.push(`<path d="M${px} ${p.y + p.h / 2}H${px + g.trunk}V${n.y + n.h / 2}"/>`);
  }
  out.push('</g>');
  for (const n of layout.nodes) if (n.parent) out.push(edge(n));
  for (const n of layout.nodes) out.push(box(n, layout));
  return out.join('\n');
}

/** The edge into a box: one lane per kind of evidence, each in its colour and dash, labelled. */
function edge(n: DrawnNode): string {
  const p = n.parent!;
  const tx = p.x + p.w + GEOMETRY.trunk;
  const cy = n.y + n.h / 2;
  if (n.kind === 'more') {
    return `<g class="edge more"><path d="M${tx} ${cy}H${n.x}" fill="none" stroke="#868e96" stroke-width="1.5" stroke-dasharray="1.5 3"/></g>`;
  }
  const kinds = n.evidence;
  if (kinds.length === 0) {
    return `<g class="edge" data-evidence=""><title>no evidence recorded for this link</title><path d="M${tx} ${cy}H${n.x}" fill="none" stroke="#868e96" stroke-width="1.5"/></g>`;
  }
  const out = [`<g class="edge" data-evidence="${esc(kinds.join(' '))}"><title>${esc(`evidence: ${kinds.join(', ')}`)}</title>`];
  kinds.forEach((k, i) => {
    const s = EVIDENCE_STYLE[k];
    const off = (i - (kinds.length - 1) / 2) * 11;
    const y = cy + off;
    out.push(
      `<path class="lane ${esc(k)}" d="M${tx} ${cy}L${tx + 8} ${y}H${n.x}" fill="none" stroke="${s.colour}" stroke-width="2.2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
    );
    out.push(
      `<text class="evidence" x="${tx + 12}" y="${y - 2.5}" font-size="8.5" fill="${s.colour}" stroke="#ffffff" stroke-width="3" paint-order="stroke">${esc(s.label)}</text>`,
    );
  });
  out.push('</g>');
  return out.join('');
}

/** A box and its lines of text. */
function box(n: DrawnNode, layout: TreeLayout): string {
  const lines: { text: string; size: number; weight?: string; fill?: string }[] = [];
  let fill = '#e7f5ff';
  let stroke = '#1971c2';
  let dash: string | null = null;
  let rx = 5;
  let strokeWidth = 1.2;
  let title = '';
  const w = n.w - 8;
  if (n.kind === 'root') {
    const r = layout.root;
    const present = r.present;
    fill = present ? '#fff4e6' : '#f1f3f5';
    stroke = present ? '#d9480f' : '#868e96';
    dash = present ? null : '5 3';
    strokeWidth = 2;
    const name = r.image ?? (r.pid === null ? 'unknown process' : '(image unknown)');
    lines.push({ text: name, size: 13, weight: 'bold' });
    lines.push({ text: r.pid === null ? 'pid unknown' : `pid ${r.pid} · Cid ${pidHex(r.pid)}`, size: 11 });
    lines.push({
      text: present ? (r.exceptionStack ? 'in the dump · stack below' : 'in the dump · no stack') : 'not in the dump',
      size: 10.5,
      fill: present ? '#d9480f' : '#495057',
      weight: 'bold',
    });
    title = `original fault: ${name}${r.pid === null ? '' : ` pid ${r.pid} (Cid ${pidHex(r.pid)})`}; ${present ? 'in the dump' : 'not in the dump'}${r.note ? `; ${r.note}` : ''}${n.commandLine ? `\ncommand line: ${n.commandLine}` : ''}`;
  } else if (n.kind === 'reporter') {
    const pid = n.pid!;
    lines.push({ text: `${n.image ?? 'WerFault.exe'} ${pid}`, size: 11.5, weight: 'bold' });
    lines.push({ text: `Cid ${pidHex(pid)}${n.chains > 1 ? ` · ${plural(n.chains, 'chain')}` : ''}`, size: 10, fill: '#495057' });
    title =
      `${n.image ?? 'WerFault.exe'} pid ${pid} (Cid ${pidHex(pid)}); evidence: ${n.evidence.join(', ') || 'none'}; ${plural(n.chains, 'chain')} through it` +
      (n.commandLine ? `\ncommand line: ${n.commandLine}` : '') +
      n.conflicts.map((c) => `\nconflict: ${c.kind} points at ${c.targetPid} (Cid ${pidHex(c.targetPid)}), overruled`).join('');
  } else if (n.kind === 'fold') {
    fill = '#f8f9fa';
    stroke = '#495057';
    dash = '4 3';
    rx = n.h / 2;
    lines.push({ text: `… ${n.levels} levels …`, size: 11.5, weight: 'bold' });
    lines.push({ text: n.hiddenReporters > 0 ? `${plural(n.hiddenReporters, 'chain')} leave here` : `pids ${n.pid} … ${n.lastPid}`, size: 10, fill: '#495057' });
    title =
      `${plural(n.levels, 'level')} of WerFault.exe folded, each reporting on the one before: pids ${n.pid} … ${n.lastPid}` +
      (n.hiddenReporters > 0 ? `; ${plural(n.hiddenReporters, 'other chain')} (${plural(n.hiddenWerFaults, 'WerFault.exe', 'WerFault.exe')}) branch off inside and are not drawn` : '');
  } else {
    fill = '#ffffff';
    stroke = '#868e96';
    dash = '1.5 3';
    const head = `+${plural(n.hiddenReporters, 'reporter')} / ${plural(n.chains, 'chain')}`;
    const sub = `${n.hiddenWerFaults} WerFault.exe · ${n.levels} deep`;
    const short = head.length * 10.5 * BOLD_EM <= w && sub.length * 10 * EM <= w;
    lines.push({ text: short ? head : `+${plural(n.hiddenReporters, 'reporter')}`, size: 10.5, weight: 'bold', fill: '#343a40' });
    lines.push({ text: short ? sub : `${plural(n.chains, 'chain')} · ${n.levels} deep`, size: 10, fill: '#495057' });
    title = `${plural(n.hiddenReporters, 'more reporter')} here, not drawn: ${plural(n.chains, 'chain')}, ${n.hiddenWerFaults} WerFault.exe, ${plural(n.levels, 'level')} deep`;
  }
  if (n.deepest) {
    stroke = GOLD;
    strokeWidth = 3;
  }
  const attrs = [`class="node ${n.kind}${n.deepest ? ' deepest' : ''}${n.conflicts.length > 0 ? ' conflict' : ''}"`, `data-kind="${n.kind}"`];
  if (n.pid !== null) attrs.push(`data-pid="${n.pid}"`);
  if (n.kind === 'root') attrs.push(`data-present="${layout.root.present}"`);
  const out = [`<g ${attrs.join(' ')}>`, `<title>${esc(title)}</title>`];
  out.push(
    `<rect x="${n.x}" y="${n.y}" width="${n.w}" height="${n.h}" rx="${rx}" fill="${fill}" stroke="${stroke}" stroke-width="${strokeWidth}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
  );
  const total = lines.reduce((h, l) => h + l.size * 1.25, 0);
  let y = n.y + (n.h - total) / 2;
  for (const l of lines) {
    y += l.size * 1.25;
    out.push(
      `<text x="${n.x + n.w / 2}" y="${(y - l.size * 0.3).toFixed(1)}" text-anchor="middle" font-size="${l.size}"${l.weight ? ` font-weight="${l.weight}"` : ''} fill="${l.fill ?? '#212529'}">${esc(fit(l.text, w, l.size, l.weight === 'bold'))}</text>`,
    );
  }
  if (n.conflicts.length > 0) {
    const cx = n.x + n.w - 3;
    const cy = n.y + 3;
    out.push(`<circle cx="${cx}" cy="${cy}" r="8" fill="#e03131" stroke="#ffffff" stroke-width="1.5"/>`);
    out.push(`<text x="${cx}" y="${cy + 4}" text-anchor="middle" font-size="11" font-weight="bold" fill="#ffffff">!</text>`);
  }
  out.push('</g>');
  return out.join('');
}

/** The legend: what each lane and each kind of box means. */
export function legendSvg(options: { standalone?: boolean } = {}): string {
  const ns = options.standalone ? ' xmlns="http://www.w3.org/2000/svg"' : '';
  return `<svg${ns} class="legend" width="${LEGEND.width}" height="${LEGEND.height}" viewBox="0 0 ${LEGEND.width} ${LEGEND.height}" font-family="${esc(FONT)}" role="img" aria-label="legend">${legendBody()}</svg>`;
}

const LEGEND = { width: 1240, height: 104 } as const;

function legendBody(): string {
  const out: string[] = [];
  EVIDENCE_ORDER.forEach((k, i) => {
    const s = EVIDENCE_STYLE[k];
    const y = 12 + i * 18;
    out.push(
      `<g class="legend-evidence" data-evidence="${k}"><path d="M8 ${y}H52" stroke="${s.colour}" stroke-width="2.6"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>` +
        `<text x="60" y="${y + 4}" font-size="11.5"><tspan font-weight="bold" fill="${s.colour}">${esc(s.label)}</tspan><tspan fill="#343a40">: ${esc(s.meaning)}</tspan></text></g>`,
    );
  });
  const samples: [string, string, string | null, number, string, string][] = [
    ['#fff4e6', '#d9480f', null, 2, 'original fault (in the dump)', 'root'],
    ['#f1f3f5', '#868e96', '5 3', 2, 'original fault not in the dump', 'root'],
    ['#e7f5ff', '#1971c2', null, 1.2, 'WerFault.exe', 'reporter'],
    ['#e7f5ff', GOLD, null, 3, 'the deepest chain', 'reporter'],
    ['#f8f9fa', '#495057', '4 3', 1.2, 'folded levels', 'fold'],
    ['#ffffff', '#868e96', '1.5 3', 1.2, 'reporters not drawn', 'more'],
  ];
  let x = 8;
  for (const [fill, stroke, dash, sw, label, kind] of samples) {
    out.push(
      `<rect x="${x}" y="64" width="26" height="16" rx="${kind === 'fold' ? 8 : 3}" fill="${fill}" stroke="${stroke}" stroke-width="${sw}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>` +
        `<text x="${x + 32}" y="76" font-size="11" fill="#343a40">${esc(label)}</text>`,
    );
    x += 48 + label.length * 6.6;
  }
  out.push(
    `<circle cx="${x + 8}" cy="72" r="8" fill="#e03131"/><text x="${x + 8}" y="76" text-anchor="middle" font-size="11" font-weight="bold" fill="#ffffff">!</text>` +
      `<text x="${x + 22}" y="76" font-size="11" fill="#343a40">conflicting evidence</text>`,
  );
  out.push(
    `<text x="8" y="98" font-size="10.5" fill="#495057">The original fault is on the left; each WerFault.exe reports on the process it hangs from. Hover a box for its pid, command line and evidence.</text>`,
  );
  return out.join('\n');
}

/** Options of the pictures. */
export interface PictureOptions extends TreeOptions {
  /** Original faults drawn per report before the rest are only counted. */
  maxRoots?: number;
  /** Frames of each root's exception stack listed. */
  maxFrames?: number;
}


/** Header facts of a report, as short lines. */
export function headerLines(report: Report): { system: string; stats: string } {
  const s = report.system;
  const st = report.stats;
  const system = [
    s.os && `${s.os}${s.osBuild ? ` build ${s.osBuild}` : ''}${s.servicePack ? ` SP${s.servicePack}` : ''}`,
    s.processors !== undefined && `${s.processors} processors`,
    s.arch,
    s.dumpType,
    s.mode && `${s.mode} mode`,
    s.machineName && `machine ${s.machineName}`,
    s.sessionTime && `session ${s.sessionTime}`,
  ]
    .filter(Boolean)
    .join(' · ');
  const stats =
    `${st.bytes} bytes, ${st.lines} lines, ${st.processes} processes, ${st.threads} threads, ${st.frames} frames; ` +
    `${st.unparsedLines} lines not understood, ${plural(st.warnings, 'warning')}`;
  return { system, stats };
}

/** Colours of the severity badge. */
export const SEVERITY_COLOUR: Record<string, string> = { medium: '#f08c00', high: '#e8590c', critical: '#c92a2a' };

/** One report as a block of a standalone SVG: its header, the legend, each tree and the root's stack. */
export function svgBlock(report: Report, options: PictureOptions = {}): { width: number; height: number; body: string } {
  const maxRoots = options.maxRoots ?? 12;
  const maxFrames = options.maxFrames ?? 24;
  const out: string[] = [];
  let y = 0;
  let width = LEGEND.width + 20;
  const text = (x: number, size: number, s: string, extra = ''): void => {
    y += size * 1.45;
    out.push(`<text x="${x}" y="${y.toFixed(1)}" font-size="${size}"${extra}>${esc(s)}</text>`);
  };
  const { system, stats } = headerLines(report);
  text(10, 17, report.source, ' font-weight="bold"');
  text(10, 11, `dump ${report.dumpId}${report.host ? ` · host ${report.host}` : ''}${report.status === 'incomplete' ? ` · INCOMPLETE: ${report.incompleteReason ?? ''}` : ''}`, ' fill="#495057"');
  if (system) text(10, 11, system, ' fill="#495057"');
  text(10, 11, stats, ' fill="#495057"');
  if (report.findings.length === 0) text(10, 13, 'no Error Reporting Fault: no WerFault.exe reports on another WerFault.exe', ' fill="#2b8a3e"');
  for (const f of report.findings) {
    y += 8;
    out.push(
      `<rect x="10" y="${y}" width="${f.severity.length * 9 + 16}" height="20" rx="4" fill="${SEVERITY_COLOUR[f.severity] ?? '#c92a2a'}"/>` +
        `<text x="18" y="${y + 14.5}" font-size="12" font-weight="bold" fill="#ffffff">${esc(f.severity.toUpperCase())}</text>` +
        `<text x="${f.severity.length * 9 + 36}" y="${y + 14.5}" font-size="13" font-weight="bold">Error Reporting Fault</text>`,
    );
    y += 20;
    text(10, 11.5, f.summary);
    y += 6;
    out.push(`<g transform="translate(0 ${y})">${legendBody()}</g>`);
    y += LEGEND.height + 4;
    const layouts = layoutFinding(f, report, options);
    for (const l of layouts.slice(0, maxRoots)) {
      y += 8;
      text(10, 14, rootHeading(l), ' font-weight="bold"');
      out.push(`<g class="tree" transform="translate(0 ${y})">${treeBody(l)}</g>`);
      width = Math.max(width, l.width);
      y += l.height;
      for (const line of rootFooter(l, maxFrames)) text(24, 10.5, line.text, line.bold ? ` font-family="${esc(MONO)}" font-weight="bold"` : ` font-family="${esc(MONO)}"`);
    }
    if (layouts.length > maxRoots) text(10, 12, `… and ${layouts.length - maxRoots} more original faults (see --format json)`);
  }
  return { width, height: Math.ceil(y + 16), body: out.join('\n') };
}

/** The heading above a root's tree. */
export function rootHeading(l: TreeLayout): string {
  const r = l.root;
  const name = r.image ?? (r.pid === null ? 'unknown process' : '(image unknown)');
  return (
    `Original fault: ${name}${r.pid === null ? '' : ` pid ${r.pid} (Cid ${pidHex(r.pid)})`}${r.present ? '' : ', not in the dump'} — ` +
    `${plural(l.chains, 'chain')}, ${l.werFaults} WerFault.exe, deepest ${l.depth}` +
    (l.drawnReporters < l.werFaults ? `; ${l.drawnReporters} drawn, the rest folded or summarised` : '')
  );
}

/** A line under a root's tree; `faulting` marks the faulting frame. */
export interface FooterLine {
  text: string;
  bold?: boolean;
  faulting?: boolean;
  kind: 'chain' | 'conflict' | 'frame' | 'note';
}

/** The lines under a root's tree: deepest chain, conflicts, then the exception stack or the note. */
export function rootFooter(l: TreeLayout, maxFrames: number): FooterLine[] {
  const out: FooterLine[] = [];
  out.push({ text: `deepest chain (${plural(l.deepestChain.length, 'WerFault.exe', 'WerFault.exe')}, from the original fault out): ${chainText(l.deepestChain)}`, kind: 'chain' });
  for (const text of conflictLines(l.conflicts, l.conflictTargets)) out.push({ text, kind: 'conflict' });
  const r = l.root;
  if (r.exceptionStack) {
    out.push({ text: `exception stack of ${r.image ?? `pid ${r.pid}`}:`, kind: 'note' });
    const faulting = faultingFrameText(r);
    if (faulting) out.push({ text: faulting, kind: 'note' });
    for (const f of exceptionStackLines(r, maxFrames)) {
      out.push({ text: `  ${f.text}${f.faulting ? `  ${FAULTING_MARK}` : ''}`, bold: f.exception || f.faulting, faulting: f.faulting, kind: 'frame' });
    }
  } else {
    out.push({ text: `no exception stack: ${r.note ?? 'the transcript does not show it'}`, kind: 'note' });
  }
  return out;
}

/** Pids of a chain, folded in the middle when long. */
export function chainText(pids: readonly number[]): string {
  const s = pids.map(String);
  return s.length <= 12 ? s.join(' → ') : `${s.slice(0, 5).join(' → ')} → … ${s.length - 9} more … → ${s.slice(-4).join(' → ')}`;
}

/** A standalone SVG document of one or several reports, one under the other. */
export function renderSvg(reports: Report | readonly Report[], options: PictureOptions = {}): string {
  const list = Array.isArray(reports) ? (reports as readonly Report[]) : [reports as Report];
  return svgDocument(list.map((r) => svgBlock(r, options)));
}

/** Stacks blocks (of `svgBlock`) into one SVG document. */
export function svgDocument(blocks: readonly { width: number; height: number; body: string }[]): string {
  const width = Math.max(LEGEND.width + 20, ...blocks.map((b) => b.width));
  const out: string[] = [];
  let y = 10;
  for (const b of blocks) {
    out.push(`<g class="report" transform="translate(0 ${y})">${b.body}</g>`);
    y += b.height;
    out.push(`<path d="M0 ${y + 6}H${width}" stroke="#ced4da"/>`);
    y += 14;
  }
  const height = Math.max(y, 40);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${esc(FONT)}" fill="#212529">\n` +
    `<rect width="100%" height="100%" fill="#ffffff"/>\n${out.join('\n')}\n</svg>\n`
  );
}
