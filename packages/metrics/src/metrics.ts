import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { CappedLabel, DEFAULT_LABEL_CAP } from './labels';

/** How a transcript reached ingest. */
export type Way = 'http' | 'spool';

/** The ways in, each counted from zero so that `increase()` sees the first transcript. */
export const WAYS: readonly Way[] = ['http', 'spool'];

/** Outcomes of an analysed dump (dumpstream_dumps_analysed_total{outcome}). */
export const DUMP_OUTCOMES = ['complete', 'incomplete', 'failed', 'duplicate', 'aborted'] as const;
export type DumpOutcome = (typeof DUMP_OUTCOMES)[number];

/** Outcomes of a consumed segment (dumpstream_segments_parsed_total{outcome}). */
export const SEGMENT_OUTCOMES = ['ok', 'dead-letter'] as const;
export type SegmentOutcome = (typeof SEGMENT_OUTCOMES)[number];

/** The findings counted from zero: the detectors' patterns and severities (a test pins them to @dumpstream/detect). */
export const FINDING_PATTERNS = ['error-reporting-fault'] as const;
export const FINDING_SEVERITIES = ['medium', 'high', 'critical'] as const;

/** A registry with the service's name as a default label and the default process metrics (CPU, memory, event loop, GC). */
export function serviceRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

// ---------------------------------------------------------------------------------------------
// Every dumpstream metric, defined once here. Names follow Prometheus conventions: the
// `dumpstream_` prefix, base units (`_seconds`, `_bytes`), `_total` on counters. A helper below
// takes the metrics its service uses; one defined on a registry already is reused, so helpers
// may share a registry.
// ---------------------------------------------------------------------------------------------

function reuse<T extends Metric>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
  return reuse(registry, name, () => new Counter<L>({ name, help, labelNames, registers: [registry] }));
}
function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
  return reuse(registry, name, () => new Gauge<L>({ name, help, labelNames, registers: [registry] }));
}
function histogram<L extends string>(registry: Registry, name: string, help: string, buckets: number[], labelNames: readonly L[] = []): Histogram<L> {
  return reuse(registry, name, () => new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] }));
}

const define = {
  // ingest
  transcriptsReceived: (r: Registry) => counter(r, 'dumpstream_transcripts_received_total', 'Transcripts ingested whole, by way in (http, spool).', ['way']),
  bytesReceived: (r: Registry) => counter(r, 'dumpstream_received_bytes_total', 'Decoded transcript bytes read as they arrive (uploads that fail later included), by way in (http, spool).', ['way']),
  segmentsProduced: (r: Registry) => counter(r, 'dumpstream_segments_produced_total', 'Segments written to the segments topic and acknowledged by Kafka.'),
  uploadsRejected: (r: Registry) => counter(r, 'dumpstream_uploads_rejected_total', 'Uploads refused or failed, by reason (unauthorized, too_many_uploads, too_large, not_transcript, client_aborted, kafka, …).', ['reason']),
  uploadDuration: (r: Registry) =>
    histogram(r, 'dumpstream_upload_duration_seconds', 'Time from the first byte of an upload to its answer, by way in.', [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800], ['way']),
  // parse
  segmentsParsed: (r: Registry) => counter(r, 'dumpstream_segments_parsed_total', 'Segments consumed by parse, by outcome (ok, dead-letter).', ['outcome']),
  parseWarnings: (r: Registry) => counter(r, 'dumpstream_parse_warnings_total', 'Parser warnings raised, by kind.', ['kind']),
  // detect
  dumpsAnalysed: (r: Registry) =>
    counter(r, 'dumpstream_dumps_analysed_total', 'Dumps analysed, by outcome: complete, incomplete (reported after the timeout), failed (an analysis attempt threw; it is retried), duplicate (identical bytes reported before), aborted (ingest gave up on the upload).', ['outcome']),
  findings: (r: Registry) => counter(r, 'dumpstream_findings_total', 'Findings reported, by pattern and severity.', ['pattern', 'severity']),
  faults: (r: Registry) =>
    counter(r, 'dumpstream_faults_total', 'Original faults behind WerFault.exe chains (each root process once per dump), by root image and host (each capped: later names count as other; missing ones as unknown).', ['root_image', 'host']),
  werFaultProcesses: (r: Registry) => histogram(r, 'dumpstream_werfault_processes', 'WerFault.exe processes per analysed dump.', [0, 1, 2, 3, 5, 10, 20, 50, 100, 500, 1000, 5000]),
  chainLength: (r: Registry) => histogram(r, 'dumpstream_wer_chain_length', 'WerFault.exe processes in each WerFault.exe chain found (its length).', [2, 3, 4, 5, 6, 8, 10, 15, 20, 50, 100]),
  uploadToReport: (r: Registry) => histogram(r, 'dumpstream_upload_to_report_seconds', 'Time from an upload being received by ingest to its report being published.', [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900]),
  factsRead: (r: Registry) =>
    counter(r, 'dumpstream_detect_facts_read_total', "Segments' facts read to build reports, by where from: memory (merged by this worker and still held, DETECT_FACTS_CACHE) or redis.", ['from']),
  redisErrors: (r: Registry) => counter(r, 'dumpstream_redis_errors_total', 'Redis operations that failed (and were retried), by operation.', ['operation']),
  // parse and detect
  stageDuration: (r: Registry) =>
    histogram(r, 'dumpstream_stage_duration_seconds', 'Time spent per message in a stage (parse, merge, detect, publish).', [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], ['stage']),
  deadLetters: (r: Registry) => counter(r, 'dumpstream_dead_letters_total', 'Messages sent to the dead-letter topic, by source topic and reason.', ['topic', 'reason']),
  consumerLag: (r: Registry) =>
    gauge(r, 'dumpstream_consumer_lag_messages', "Messages on the partitions this worker is assigned that its consumer group has not committed yet, by topic (sum over the group's workers for the topic's lag).", ['topic']),
  // detect: the fleet's storms, exported by the storm evaluator only (queries take max() over workers)
  stormsActive: (r: Registry) => gauge(r, 'dumpstream_storms_active', 'Signatures storming fleet-wide now. Exported by the detect worker that evaluates storms only: query with max().'),
  signatureDumps: (r: Registry) =>
    gauge(r, 'dumpstream_fleet_signature_dumps', 'Dumps in the storm window fleet-wide, for the top signatures (STORM_METRICS_TOP, by that count) and the rest as other. From the shared state, exported by the storm evaluator only: query with max().', ['signature']),
  signatureHosts: (r: Registry) =>
    gauge(r, 'dumpstream_fleet_signature_hosts', 'Distinct hosts in the storm window (HyperLogLog estimate) for the top signatures; other is a sum, so an upper bound. Exported by the storm evaluator only: query with max().', ['signature']),
  signatureStorming: (r: Registry) =>
    gauge(r, 'dumpstream_fleet_signature_storming', '1 when the signature storms, for the top signatures (other: 1 when any of the rest does). Exported by the storm evaluator only: query with max().', ['signature']),
  stormEvaluatedAt: (r: Registry) =>
    gauge(r, 'dumpstream_storm_last_evaluation_timestamp_seconds', 'When this worker last evaluated the storm rule under the lease; absent on the workers that do not hold it.'),
  stormEvaluations: (r: Registry) => counter(r, 'dumpstream_storm_evaluations_total', 'Storm evaluations by outcome: ok, not-leader (another worker holds the lease), lost-lease, failed.', ['outcome']),
  stormEvents: (r: Registry) => counter(r, 'dumpstream_storm_events_total', 'Storm events published to the storms topic, by state (started, update, ended).', ['state']),
  fleetDumps: (r: Registry) => counter(r, 'dumpstream_fleet_dumps_recorded_total', 'Reported dumps with a finding recorded into the fleet state, by outcome: counted, or seen (counted before: a redelivery or replay).', ['outcome']),
  // all three
  kafkaErrors: (r: Registry) => counter(r, 'dumpstream_kafka_errors_total', 'Kafka operations that failed, by operation.', ['operation']),
};

function once<T>(cache: WeakMap<Registry, T>, registry: Registry, make: () => T): T {
  let m = cache.get(registry);
  if (m === undefined) {
    m = make();
    cache.set(registry, m);
  }
  return m;
}

/** The ingest service's metrics. */
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
  /** Produce requests that failed after the client's retries. */
  kafkaErrors: Counter<'operation'>;
}

const ingestCache = new WeakMap<Registry, IngestMetrics>();

/** Defines ingest's metrics on `registry`. Called twice with the same registry, gives the same objects. */
export function ingestMetrics(registry: Registry): IngestMetrics {
  return once(ingestCache, registry, () => {
    const m: IngestMetrics = {
      transcriptsReceived: define.transcriptsReceived(registry),
      bytesReceived: define.bytesReceived(registry),
      segmentsProduced: define.segmentsProduced(registry),
      uploadsRejected: define.uploadsRejected(registry),
      uploadDuration: define.uploadDuration(registry),
      kafkaErrors: define.kafkaErrors(registry),
    };
    for (const way of WAYS) {
      m.transcriptsReceived.inc({ way }, 0);
      m.bytesReceived.inc({ way }, 0);
    }
    m.segmentsProduced.inc(0);
    return m;
  });
}

/** What parse and detect both count. */
export interface ConsumerMetrics {
  stageDuration: Histogram<'stage'>;
  deadLetters: Counter<'topic' | 'reason'>;
  kafkaErrors: Counter<'operation'>;
  /** Set from watchConsumerLag (@dumpstream/kafka), by logical topic name (segments, facts, manifests). */
  consumerLag: Gauge<'topic'>;
}

/** The parse service's metrics. */
export interface ParseMetrics extends ConsumerMetrics {
  segmentsParsed: Counter<'outcome'>;
  parseWarnings: Counter<'kind'>;
}

const parseCache = new WeakMap<Registry, ParseMetrics>();

/** Defines parse's metrics on `registry`. Called twice with the same registry, gives the same objects. */
export function parseMetrics(registry: Registry): ParseMetrics {
  return once(parseCache, registry, () => {
    const m: ParseMetrics = {
      segmentsParsed: define.segmentsParsed(registry),
      parseWarnings: define.parseWarnings(registry),
      stageDuration: define.stageDuration(registry),
      deadLetters: define.deadLetters(registry),
      kafkaErrors: define.kafkaErrors(registry),
      consumerLag: define.consumerLag(registry),
    };
    for (const outcome of SEGMENT_OUTCOMES) m.segmentsParsed.inc({ outcome }, 0);
    m.consumerLag.set({ topic: 'segments' }, 0);
    return m;
  });
}

/** The detect service's metrics. */
export interface DetectMetrics extends ConsumerMetrics {
  dumpsAnalysed: Counter<'outcome'>;
  findings: Counter<'pattern' | 'severity'>;
  /** Prefer countFault, which caps the labels. */
  faults: Counter<'root_image' | 'host'>;
  werFaultProcesses: Histogram<string>;
  chainLength: Histogram<string>;
  uploadToReport: Histogram<string>;
  redisErrors: Counter<'operation'>;
  factsRead: Counter<'from'>;
  /** Counts one original fault: its root image and the dump's host, each through its label cap. */
  countFault(rootImage: string | null, host: string | null): void;
}

/** Options of detectMetrics (they take effect on the first call for a registry). */
export interface DetectMetricsOptions {
  /** Distinct root images and hosts kept as label values before the rest count as `other` (default 50 each). */
  labelCap?: number;
}

const detectCache = new WeakMap<Registry, DetectMetrics>();

/**
 * Defines detect's metrics on `registry`. Called twice with the same registry, gives the same
 * objects. @throws RangeError for a bad labelCap.
 */
export function detectMetrics(registry: Registry, options: DetectMetricsOptions = {}): DetectMetrics {
  return once(detectCache, registry, () => {
    const rootImages = new CappedLabel(options.labelCap ?? DEFAULT_LABEL_CAP);
    const hosts = new CappedLabel(options.labelCap ?? DEFAULT_LABEL_CAP);
    const faults = define.faults(registry);
    const m: DetectMetrics = {
      dumpsAnalysed: define.dumpsAnalysed(registry),
      findings: define.findings(registry),
      faults,
      werFaultProcesses: define.werFaultProcesses(registry),
      chainLength: define.chainLength(registry),
      uploadToReport: define.uploadToReport(registry),
      redisErrors: define.redisErrors(registry),
      factsRead: define.factsRead(registry),
      stageDuration: define.stageDuration(registry),
      deadLetters: define.deadLetters(registry),
      kafkaErrors: define.kafkaErrors(registry),
      consumerLag: define.consumerLag(registry),
      countFault: (rootImage, host) => faults.inc({ root_image: rootImages.value(rootImage), host: hosts.value(host) }),
    };
    for (const outcome of DUMP_OUTCOMES) m.dumpsAnalysed.inc({ outcome }, 0);
    for (const pattern of FINDING_PATTERNS) for (const severity of FINDING_SEVERITIES) m.findings.inc({ pattern, severity }, 0);
    for (const topic of ['facts', 'manifests']) m.consumerLag.set({ topic }, 0);
    for (const from of ['memory', 'redis']) m.factsRead.inc({ from }, 0);
    return m;
  });
}

/** The storm evaluator's metrics (services/detect storms.ts). */
export interface StormMetrics {
  stormsActive: Gauge<string>;
  signatureDumps: Gauge<'signature'>;
  signatureHosts: Gauge<'signature'>;
  signatureStorming: Gauge<'signature'>;
  stormEvaluatedAt: Gauge<string>;
  stormEvaluations: Counter<'outcome'>;
  stormEvents: Counter<'state'>;
  fleetDumps: Counter<'outcome'>;
  /**
   * Replaces the fleet gauges with one evaluation's: `top` are the signatures to name (already
   * capped, `other` included), every worker that holds the lease names the same ones.
   */
  showFleet(active: number, top: readonly { signature: string; dumpsInWindow: number; hostsInWindow: number; storming: boolean }[], at: number): void;
  /**
   * Removes the fleet gauges: this worker does not hold the lease (another exports them). The two
   * without labels cannot be removed and read 0, which max() over the workers passes over.
   */
  hideFleet(): void;
}

const stormCache = new WeakMap<Registry, StormMetrics>();

/** Defines the storm evaluator's metrics on `registry` (the same objects when called again). */
export function stormMetrics(registry: Registry): StormMetrics {
  return once(stormCache, registry, () => {
    const m = {
      stormsActive: define.stormsActive(registry),
      signatureDumps: define.signatureDumps(registry),
      signatureHosts: define.signatureHosts(registry),
      signatureStorming: define.signatureStorming(registry),
      stormEvaluatedAt: define.stormEvaluatedAt(registry),
      stormEvaluations: define.stormEvaluations(registry),
      stormEvents: define.stormEvents(registry),
      fleetDumps: define.fleetDumps(registry),
    } as StormMetrics;
    m.hideFleet = () => {
      for (const g of [m.stormsActive, m.signatureDumps, m.signatureHosts, m.signatureStorming, m.stormEvaluatedAt]) g.reset();
    };
    m.showFleet = (active, top, at) => {
      m.hideFleet();
      m.stormsActive.set(active);
      for (const t of top) {
        const signature = t.signature.slice(0, MAX_SIGNATURE_LABEL);
        m.signatureDumps.set({ signature }, t.dumpsInWindow);
        m.signatureHosts.set({ signature }, t.hostsInWindow);
        m.signatureStorming.set({ signature }, t.storming ? 1 : 0);
      }
      m.stormEvaluatedAt.set(at / 1000);
    };
    for (const outcome of ['ok', 'not-leader', 'lost-lease', 'failed']) m.stormEvaluations.inc({ outcome }, 0);
    for (const state of ['started', 'update', 'ended']) m.stormEvents.inc({ state }, 0);
    for (const outcome of ['counted', 'seen']) m.fleetDumps.inc({ outcome }, 0);
    m.hideFleet();
    return m;
  });
}

/** Longest signature kept as a label value: a signature is a fault's name, read on a dashboard. */
export const MAX_SIGNATURE_LABEL = 200;
