/**
 * @dumpstream/redis: the partial graphs of dumps in flight, in Redis, and the reports kept for
 * the look-up API. One module owns every key (keys.ts); multi-key changes are Lua scripts
 * (scripts.ts) on the upload's hash tag.
 */
export { DumpStore } from './store';
export type { Completion, ReportLease, ManifestRecord, DumpStoreOptions } from './store';
export { ReportStore, CursorError } from './reports';
export type { ReportSummary, ReportSummaryInput, ReportStoreOptions, KeepOutcome, ReportQuery, ReportPage } from './reports';
export { DumpKeys, assertId } from './keys';
