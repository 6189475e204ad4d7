/**
 * @dumpstream/metrics: every Prometheus metric of the parse and detect stages, defined in one
 * place on an injected registry (never prom-client's global one), named by Prometheus
 * conventions: `dumpstream_` prefix, base units, `_total` for counters.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A registry with the default process metrics (CPU, memory, event loop, GC). */
export function serviceRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

const cache = new WeakMap<Registry, PipelineMetrics>();

export interface PipelineMetrics {
  segmentsParsed: Counter<'outcome'>;
  parseWarnings: Counter<'kind'>;
  dumpsAnalysed: Counter<'outcome'>;
  findings: Counter<'pattern' | 'severity'>;
  werFaultProcesses: Histogram<string>;
  chainLength: Histogram<string>;
  stageDuration: Histogram<'stage'>;
  uploadToReport: Histogram<string>;
  deadLetters: Counter<'topic' | 'reason'>;
  redisErrors: Counter<'operation'>;
  kafkaErrors: Counter<'operation'>;
}

/** The parse and detect metrics on this registry (created once per registry). */
export function pipelineMetrics(registry: Registry): PipelineMetrics {
  const hit = cache.get(registry);
  if (hit) return hit;
  const registers = [registry];
  const m: PipelineMetrics = {
    segmentsParsed: new Counter({ name: 'dumpstream_segments_parsed_total', help: 'Segments parsed, by outcome (ok, dead-letter).', labelNames: ['outcome'], registers }),
    parseWarnings: new Counter({ name: 'dumpstream_parse_warnings_total', help: 'Parser warnings raised, by kind.', labelNames: ['kind'], registers }),
    dumpsAnalysed: new Counter({ name: 'dumpstream_dumps_analysed_total', help: 'Dumps analysed, by outcome (complete, incomplete, duplicate, aborted, failed).', labelNames: ['outcome'], registers }),
    findings: new Counter({ name: 'dumpstream_findings_total', help: 'Findings reported, by pattern and severity.', labelNames: ['pattern', 'severity'], registers }),
    werFaultProcesses: new Histogram({ name: 'dumpstream_werfault_processes', help: 'WerFault.exe processes per analysed dump.', buckets: [0, 1, 2, 3, 5, 10, 20, 50, 100, 500, 1000, 5000], registers }),
    chainLength: new Histogram({ name: 'dumpstream_wer_chain_length', help: 'Length of each WerFault.exe chain found.', buckets: [2, 3, 4, 5, 6, 8, 10, 15, 20, 50, 100], registers }),
    stageDuration: new Histogram({ name: 'dumpstream_stage_duration_seconds', help: 'Time spent per message in a stage (parse, merge, detect, publish).', labelNames: ['stage'], buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers }),
    uploadToReport: new Histogram({ name: 'dumpstream_upload_to_report_seconds', help: 'From the upload being received to its report being published.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900], registers }),
    deadLetters: new Counter({ name: 'dumpstream_dead_letters_total', help: 'Messages sent to the dead-letter topic, by source topic and reason.', labelNames: ['topic', 'reason'], registers }),
    redisErrors: new Counter({ name: 'dumpstream_redis_errors_total', help: 'Redis operations that failed (and were retried), by operation.', labelNames: ['operation'], registers }),
    kafkaErrors: new Counter({ name: 'dumpstream_kafka_errors_total', help: 'Kafka operations that failed (and were retried), by operation.', labelNames: ['operation'], registers }),
  };
  cache.set(registry, m);
  return m;
}
