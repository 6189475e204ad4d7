/** @dumpstream/detect: pure detectors over a dump's process graph. */
export { detectErrorReportingFault, exceptionStackOf, originalFaults, severityOf, ERROR_REPORTING_FAULT } from './errorReportingFault';
export { faultingFrameIndex, isSystemModule } from './faultingFrame';
export type { ErrorReportingFault, WerChain, ChainRoot, ChainLike, OriginalFault, Severity } from './errorReportingFault';
