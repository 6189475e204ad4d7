import { decodeWire, encodeWire } from './registry';

/** How ingest finished a dump: `aborted` means it failed midway and the dump is not whole. */
export type DumpStatus = 'complete' | 'aborted';

/**
 * What ingest sent of one dump, on the `manifests` topic after the dump's last segment. Detect
 * treats a dump as whole only when it has merged `segments` segments and `status` is `complete`.
 */
export interface DumpManifest {
  /** The uploadId its segments carry. */
  uploadId: string;
  /** sha256 of the whole transcript's bytes, lowercase hex: the report's dumpId. For an aborted upload, of the bytes received. */
  dumpId: string;
  source: string;
  host: string | null;
  /** How many segments ingest produced: seq 0 to segments - 1. */
  segments: number;
  lines: number;
  bytes: number;
  /** When ingest received the transcript, ms since the epoch. */
  receivedAt: number;
  status: DumpStatus;
  /** Why ingest aborted; null when complete. */
  reason: string | null;
}

/** Encodes a dump manifest. Throws SchemaError ENCODE_INVALID when a field does not fit the schema. */
export function encodeDumpManifest(manifest: DumpManifest): Buffer {
  return encodeWire('DumpManifest', manifest);
}

/** Decodes a dump manifest into a plain object. Throws SchemaError DECODE_FAILED for bytes that are not one. */
export function decodeDumpManifest(bytes: Buffer): DumpManifest {
  const w = decodeWire<DumpManifest>('DumpManifest', bytes);
  return {
    uploadId: w.uploadId,
    dumpId: w.dumpId,
    source: w.source,
    host: w.host,
    segments: w.segments,
    lines: w.lines,
    bytes: w.bytes,
    receivedAt: w.receivedAt,
    status: w.status,
    reason: w.reason,
  };
}
