import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ManifestRecord } from '@dumpstream/redis';
import { encodeDumpManifest, encodeFacts, encodeSegment } from '@dumpstream/schemas';
import { Segmenter } from '@dumpstream/transcript';

export const SEED = path.resolve(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt');

/** One upload of a transcript as the pipeline carries it: its segment, facts and manifest messages. */
export interface PreparedUpload {
  uploadId: string;
  bytes: Buffer;
  dumpId: string;
  segments: { key: string; value: Buffer }[];
  facts: { key: string; value: Buffer }[];
  manifest: { key: string; value: Buffer };
  record: ManifestRecord;
}

/**
 * The seed with a line naming a new upload (bytes of its own: no two uploads share a dumpId), cut
 * into segments of `maxLines` lines, as ingest and parse would put it on Kafka.
 */
export async function prepareUpload(maxLines: number, source = 'seed.txt'): Promise<PreparedUpload> {
  const uploadId = randomUUID();
  const bytes = Buffer.concat([await fs.readFile(SEED), Buffer.from(`\nupload ${uploadId}\n`)]);
  const receivedAt = Date.now();
  const segments: PreparedUpload['segments'] = [];
  const facts: PreparedUpload['facts'] = [];
  const seg = new Segmenter(
    (s, f) => {
      segments.push({ key: `${uploadId}:${s.seq}`, value: encodeSegment({ ...s, uploadId, source, host: null, receivedAt }) });
      facts.push({ key: `${uploadId}:${s.seq}`, value: encodeFacts({ ...f, uploadId }) });
    },
    { keepLines: true, maxLines },
  );
  seg.push(bytes);
  const summary = seg.end();
  const dumpId = createHash('sha256').update(bytes).digest('hex');
  const record: ManifestRecord = { dumpId, source, host: null, segments: summary.segments, lines: summary.lines, bytes: summary.bytes, receivedAt, status: 'complete' };
  return { uploadId, bytes, dumpId, segments, facts, manifest: { key: uploadId, value: encodeDumpManifest({ uploadId, ...record, reason: null }) }, record };
}
