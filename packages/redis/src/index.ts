/**
 * @dumpstream/redis: the partial graphs of dumps in flight, in Redis. One module owns every key
 * (keys.ts); multi-key changes are Lua scripts (scripts.ts) on the upload's hash tag.
 */
export { DumpStore } from './store';
export type { Completion, ReportLease, ManifestRecord, DumpStoreOptions } from './store';
export { DumpKeys, assertId } from './keys';
