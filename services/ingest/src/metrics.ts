import { Counter, Histogram, type Registry } from 'prom-client';

/** How a transcript reached ingest. */
export type Way = 'http' | 'spool';

/** The ingest service's metrics (names follow Prometheus conventions: base units, `_total` counters). */
export interface IngestMetrics {
  /** Transcripts taken in whole (their manifest says complete). */
  transcriptsReceived: Counter<'way'>;
  /** Decoded transcript bytes read, as they arrive (including uploads that fail later). */
  bytesReceived: Counter<'way'>;
  /** Segments acknowledged by Kafka. */
  segmentsProduced: Counter<string>;
  /** Uploads refused or failed, by reason (the IngestError code in lower case: too_large, unauthorized, …). */
  uploadsRejected: Counter<'reason'>;
  /** From the first byte to the answer, of every upload that got past the checks, by way. */
  uploadDuration: Histogram<'way'>;
}

const cache = new WeakMap<Registry, IngestMetrics>();

/**
 * Defines ingest's metrics on `registry` (never prom-client's global one). Called twice with the
 * same registry, gives the same objects.
 */
export function ingestMetrics(registry: Registry): IngestMetrics {
  const hit = cache.get(registry);
  if (hit) return hit;
  const registers = [registry];
  const m: IngestMetrics = {
    transcriptsReceived: new Counter({ name: 'dumpstream_transcripts_received_total', help: 'Transcripts ingested whole, by way (http, spool).', labelNames: ['way'], registers }),
    bytesReceived: new Counter({ name: 'dumpstream_bytes_received_total', help: 'Decoded transcript bytes read, by way (http, spool).', labelNames: ['way'], registers }),
    segmentsProduced: new Counter({ name: 'dumpstream_segments_produced_total', help: 'Segments written to the segments topic and acknowledged.', registers }),
    uploadsRejected: new Counter({ name: 'dumpstream_uploads_rejected_total', help: 'Uploads refused or failed, by reason (unauthorized, too_many_uploads, too_large, not_transcript, client_aborted, kafka, …).', labelNames: ['reason'], registers }),
    uploadDuration: new Histogram({ name: 'dumpstream_upload_duration_seconds', help: 'Time from the first byte of an upload to its answer, by way.', labelNames: ['way'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800], registers }),
  };
  cache.set(registry, m);
  return m;
}
