/** @dumpstream/report: the report contract (`dumpstream.report/v1`) and its text rendering. */
export { buildReport, REPORT_SCHEMA } from './report';
export type { Report, ReportInput, ReportFrame, ReportThread, ReportProcess, ReportStack, ReportFinding } from './report';
export { renderText } from './text';
export type { TextOptions } from './text';
