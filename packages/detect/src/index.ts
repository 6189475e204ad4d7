/** @dumpstream/detect: pure detectors over a dump's process graph. */
export { detectErrorReportingFault, exceptionStackOf, severityOf, ERROR_REPORTING_FAULT } from './errorReportingFault';
export type { ErrorReportingFault, WerChain, ChainRoot, Severity } from './errorReportingFault';
