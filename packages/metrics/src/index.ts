/**
 * @dumpstream/metrics: every Prometheus metric of dumpstream's services, defined in one place
 * on an injected registry (never prom-client's global one), named by Prometheus conventions:
 * `dumpstream_` prefix, base units (`_seconds`, `_bytes`), `_total` for counters. Labels that
 * carry names from the input (root image, host) go through a cardinality cap.
 */
export { serviceRegistry, ingestMetrics, parseMetrics, detectMetrics, stormMetrics, MAX_SIGNATURE_LABEL, WAYS, DUMP_OUTCOMES, SEGMENT_OUTCOMES, FINDING_PATTERNS, FINDING_SEVERITIES } from './metrics';
export type { Way, DumpOutcome, SegmentOutcome, IngestMetrics, ConsumerMetrics, ParseMetrics, DetectMetrics, DetectMetricsOptions, StormMetrics } from './metrics';
export { CappedLabel, DEFAULT_LABEL_CAP, OTHER, UNKNOWN, MAX_LABEL_LENGTH } from './labels';
