/** @dumpstream/report: the report contract (`dumpstream.report/v1`) and its renderings: text, and pictures (HTML, SVG). */
export { buildReport, reportFrameTexts, REPORT_SCHEMA, REPORT_UNPARSED_SAMPLE } from './report';
export type { ReportOptions } from './report';
export type { Report, ReportInput, ReportFrame, ReportFrameTexts, FrameTextPart, ReportThread, ReportProcess, ReportStack, ReportFinding } from './report';
export { reportJsonChunks, reportInputJsonBytes } from './json';
export { renderText } from './text';
export type { TextOptions } from './text';
export { renderHtml, renderHtmlPage, renderHtmlSection, renderHtmlFailure, htmlPage } from './html';
export type { HtmlOptions } from './html';
export { renderSvg, svgBlock, svgDocument, treeSvg, esc as escapeMarkup } from './svg';
export type { PictureOptions } from './svg';
export { layoutFinding, layoutRoot, TREE_DEFAULTS } from './tree';
export type { TreeOptions, TreeLayout, DrawnNode } from './tree';
