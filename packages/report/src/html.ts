import type { Report } from './report';
import { faultingFrameText } from './rootLines';
import { esc, headerLines, legendSvg, pidHex, rootFooter, rootHeading, SEVERITY_COLOUR, treeSvg, type PictureOptions } from './svg';
import { layoutFinding } from './tree';

/**
 * The report as a picture: a self-contained HTML page (inline CSS and SVG, no script, nothing
 * fetched) with, per original fault, the tree of its WerFault.exe drawn to a node budget, then the
 * deepest chain, conflicts and the root's exception stack. Every string from the report is escaped.
 */

export type HtmlOptions = PictureOptions;

const CSS = `
:root { color-scheme: light; }
body { margin: 0; padding: 18px 24px 40px; font: 14px/1.4 'DejaVu Sans', 'Segoe UI', Verdana, Arial, sans-serif; color: #212529; background: #ffffff; }
h1 { font-size: 18px; margin: 0 0 10px; color: #495057; font-weight: normal; }
nav ol { margin: 4px 0 14px; padding-left: 22px; }
section.report { border-top: 3px solid #dee2e6; padding-top: 10px; margin-top: 10px; }
section.report > h2 { font-size: 20px; margin: 0 0 4px; word-break: break-all; }
.meta { margin: 0; color: #495057; font-size: 12.5px; }
.meta code { font-size: 12px; }
.incomplete { color: #c92a2a; font-weight: bold; }
ul.warnings { margin: 6px 0; font-size: 12px; color: #862e9c; }
.finding { margin-top: 10px; }
.finding-head { display: flex; align-items: center; gap: 10px; margin: 6px 0; }
.sev { color: #fff; font-weight: bold; padding: 2px 8px; border-radius: 4px; font-size: 13px; letter-spacing: 0.04em; }
.finding-head b { font-size: 16px; }
.summary { margin: 2px 0 8px; }
.signature { margin: 0 0 8px; color: #495057; }
.clean { color: #2b8a3e; font-weight: bold; margin: 10px 0; }
.failed { color: #c92a2a; font-weight: bold; }
svg.legend { display: block; max-width: 100%; height: auto; margin: 4px 0 8px; }
article.root { margin: 16px 0 26px; }
article.root > h3 { font-size: 15px; margin: 0 0 6px; }
.figure { overflow-x: auto; border: 1px solid #e9ecef; border-radius: 6px; background: #fcfcfd; }
.figure svg { display: block; max-width: 100%; height: auto; }
.deepest { margin: 6px 0 2px; font-size: 13px; }
ul.conflicts { margin: 4px 0; color: #c92a2a; font-size: 13px; }
.note { margin: 6px 0; color: #495057; font-style: italic; }
h4 { margin: 10px 0 2px; font-size: 13px; }
ol.stack { margin: 0; padding-left: 44px; font: 12.5px/1.45 'DejaVu Sans Mono', Consolas, 'Courier New', monospace; }
ol.stack li.exception { font-weight: bold; color: #a61e4d; }
ol.stack li.faulting { font-weight: bold; background: #fff3bf; }
`;

/** One report as a whole page. */
export function renderHtml(report: Report, options: HtmlOptions = {}): string {
  return htmlPage([renderHtmlSection(report, options)], report.source);
}

/** Several reports as one page, a section each (with a list of them at the top). */
export function renderHtmlPage(reports: readonly Report[], options: HtmlOptions = {}): string {
  return htmlPage(
    reports.map((r) => renderHtmlSection(r, options)),
    reports.length === 1 ? reports[0].source : `${reports.length} dumps`,
  );
}

/** Wraps sections (from renderHtmlSection / renderHtmlFailure) in a page; their data-source is already escaped. */
export function htmlPage(sections: readonly string[], title: string): string {
  const nav =
    sections.length > 1
      ? `<nav><ol>${sections.map((s, i) => `<li><a href="#report-${i + 1}">${/data-source="([^"]*)"/.exec(s)?.[1] ?? `report ${i + 1}`}</a></li>`).join('')}</ol></nav>`
      : '';
  const body = sections.map((s, i) => s.replace('<section class="report"', `<section class="report" id="report-${i + 1}"`)).join('\n');
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>dumpstream: ${esc(title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n` +
    `<h1>dumpstream · WerFault.exe chains (Error Reporting Fault)</h1>\n${nav}\n${body}\n</body>\n</html>\n`
  );
}

/** A section for an input that could not be analysed. */
export function renderHtmlFailure(source: string, message: string): string {
  return `<section class="report" data-source="${esc(source)}" data-failed="true">\n<h2>${esc(source)}</h2>\n<p class="failed">not analysed: ${esc(message)}</p>\n</section>`;
}

/** One report's section: header, then each finding's trees. */
export function renderHtmlSection(report: Report, options: HtmlOptions = {}): string {
  const maxRoots = options.maxRoots ?? 12;
  const maxFrames = options.maxFrames ?? 40;
  const out: string[] = [];
  const { system, stats } = headerLines(report);
  out.push(`<section class="report" data-source="${esc(report.source)}">`);
  out.push(`<h2>${esc(report.source)}</h2>`);
  out.push(
    `<p class="meta">dump <code>${esc(report.dumpId)}</code>${report.host ? ` · host ${esc(report.host)}` : ''}` +
      (report.status === 'incomplete' ? ` · <span class="incomplete">incomplete: ${esc(report.incompleteReason ?? 'part of the transcript did not arrive')}</span>` : '') +
      `</p>`,
  );
  if (system) out.push(`<p class="meta">${esc(system)}</p>`);
  out.push(`<p class="meta">${esc(stats)}</p>`);
  if (report.warnings.length > 0) {
    out.push('<ul class="warnings">');
    for (const w of report.warnings.slice(0, 5)) out.push(`<li>warning: line ${esc(w.line)}: ${esc(w.kind)}: ${esc(w.text)}</li>`);
    if (report.stats.warnings > 5) out.push(`<li>… ${esc(report.stats.warnings - Math.min(5, report.warnings.length))} more warnings (see --format json)</li>`);
    out.push('</ul>');
  }
  if (report.findings.length === 0) out.push('<p class="clean">No Error Reporting Fault: no WerFault.exe reports on another WerFault.exe.</p>');
  for (const f of report.findings) {
    out.push('<div class="finding">');
    out.push(
      `<div class="finding-head"><span class="sev ${esc(f.severity)}" style="background:${SEVERITY_COLOUR[f.severity] ?? '#c92a2a'}">${esc(f.severity.toUpperCase())}</span>` +
        `<b>Error Reporting Fault</b><span>${esc(f.werFaultProcesses)} WerFault.exe in the dump</span></div>`,
    );
    out.push(`<p class="summary">${esc(f.summary)}</p>`);
    if (f.signature) out.push(`<p class="signature">Signature <code>${esc(f.signature)}</code></p>`);
    out.push(legendSvg());
    const layouts = layoutFinding(f, report, options);
    for (const l of layouts.slice(0, maxRoots)) {
      const heading = rootHeading(l);
      const rootAttr = l.root.pid === null ? '' : ` data-root-pid="${l.root.pid}"`;
      out.push(`<article class="root"${rootAttr} data-present="${l.root.present}">`);
      out.push(`<h3>${esc(heading)}</h3>`);
      // Scales down to the page, but not below 80% of its size: wider trees scroll.
      const svg = treeSvg(l, { title: heading, style: `min-width:${Math.round(l.width * 0.8)}px` });
      out.push(`<div class="figure">${svg}</div>`);
      const footer = rootFooter(l, maxFrames);
      const chain = footer.find((x) => x.kind === 'chain');
      if (chain) out.push(`<p class="deepest">${esc(chain.text)}</p>`);
      const conflicts = footer.filter((x) => x.kind === 'conflict');
      if (conflicts.length > 0) out.push(`<ul class="conflicts">${conflicts.map((c) => `<li>${esc(c.text)}</li>`).join('')}</ul>`);
      const r = l.root;
      if (r.exceptionStack) {
        const name = r.image ?? `pid ${r.pid}`;
        out.push(`<h4>Exception stack of ${esc(name)}${r.pid === null ? '' : ` (pid ${esc(r.pid)}, Cid ${esc(pidHex(r.pid))})`}</h4>`);
        const faulting = faultingFrameText(r);
        if (faulting) out.push(`<p class="faulting">${esc(faulting)}</p>`);
        out.push('<ol class="stack">');
        for (const fr of footer.filter((x) => x.kind === 'frame')) {
          const cls = fr.faulting ? ' class="faulting"' : fr.bold ? ' class="exception"' : '';
          out.push(`<li${cls}>${esc(fr.text.trim())}</li>`);
        }
        out.push('</ol>');
      } else {
        out.push(`<p class="note">No exception stack: ${esc(r.note ?? 'the transcript does not show it')}</p>`);
      }
      out.push('</article>');
    }
    if (layouts.length > maxRoots) out.push(`<p class="note">… and ${layouts.length - maxRoots} more original faults (see --format json).</p>`);
    out.push('</div>');
  }
  out.push('</section>');
  return out.join('\n');
}
