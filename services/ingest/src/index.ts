/**
 * @dumpstream/ingest: the first service of the distributed pipeline. Takes transcripts over HTTP
 * (`POST /v1/transcripts`) and from a spool folder, streams each into segments on the `segments`
 * topic (keyed `uploadId:seq`), then one DumpManifest on `manifests`; and the client that submits
 * transcripts to it (`dumpstream submit`).
 */
export { startIngest } from './service';
export type { IngestHandle, IngestOptions } from './service';
export { submitTranscripts, SUBMIT_USAGE } from './submit';
export type { SubmitOptions, SubmitResult } from './submit';
export type { Progress, ProgressFactory } from './progress';
export { ingestMetrics } from '@dumpstream/metrics';
export type { IngestMetrics, Way } from '@dumpstream/metrics';
export { IngestError, isIngestError, INGEST_ERROR_CODES } from './errors';
export type { IngestErrorCode } from './errors';
export { TRANSCRIPTS_PATH } from './http';
