/**
 * @dumpstream/schemas: the Avro schemas (in `avro/`) of every Kafka message of the distributed
 * pipeline, and typed encode/decode for each. Decoding gives plain objects deep-equal to the ones
 * encoded: optional fields that were absent come back absent.
 *
 * | schema       | topic     | producer | TypeScript      |
 * | ------------ | --------- | -------- | --------------- |
 * | Segment      | segments  | ingest   | SegmentMessage  |
 * | DumpManifest | manifests | ingest   | DumpManifest    |
 * | Facts        | facts     | parse    | FactsMessage    |
 * | Report       | reports   | detect   | Report          |
 * | Alert        | alerts    | detect   | Alert           |
 * | StormEvent   | storms    | detect   | StormEvent      |
 *
 * Dead letters keep the original bytes and say why in headers: see DEAD_LETTER_HEADERS.
 */
export { encodeSegment, decodeSegment } from './segment';
export type { SegmentMessage } from './segment';
export { encodeDumpManifest, decodeDumpManifest } from './manifest';
export type { DumpManifest, DumpStatus } from './manifest';
export { encodeFacts, decodeFacts } from './facts';
export type { FactsMessage } from './facts';
export { encodeReport, decodeReport } from './report';
export { encodeAlert, decodeAlert } from './alert';
export type { Alert, AlertRoot, Severity } from './alert';
export { encodeStormEvent, decodeStormEvent } from './storm';
export type { StormEvent } from './storm';
export { MESSAGE_SCHEMAS, AVRO_DIR, schemaFingerprint, schemaPath, readSchema } from './registry';
export type { MessageSchemaName, MessageSchemaInfo } from './registry';
export { DEAD_LETTER_HEADERS, DEAD_LETTER_TOPIC, deadLetterHeaders, readDeadLetterHeaders } from './deadLetter';
export type { DeadLetterInfo, MessageHeaders } from './deadLetter';
export { SchemaError, isSchemaError, SCHEMA_ERROR_CODES } from './errors';
export type { SchemaErrorCode } from './errors';
