import { Registry, register, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { severityOf } from '@dumpstream/detect';
import { DUMP_OUTCOMES, FINDING_SEVERITIES, detectMetrics, ingestMetrics, parseMetrics, serviceRegistry, stormMetrics } from './metrics';

async function json(registry: Registry): Promise<MetricObjectWithValues<MetricValue<string>>[]> {
  return (await registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[];
}

function everything(): Registry {
  const registry = new Registry();
  ingestMetrics(registry);
  parseMetrics(registry);
  detectMetrics(registry);
  stormMetrics(registry);
  return registry;
}

describe('the metrics helpers', () => {
  it('name every metric by Prometheus conventions: prefix, _total counters, base units', async () => {
    const metrics = await json(everything());
    expect(metrics.length).toBeGreaterThanOrEqual(16);
    for (const m of metrics) {
      expect(m.name).toMatch(/^dumpstream_[a-z][a-z0-9_]*[a-z0-9]$/);
      expect(m.help.length).toBeGreaterThan(10);
      if (String(m.type) === 'counter') expect(m.name).toMatch(/_total$/);
      else expect(m.name).not.toMatch(/_total$/);
      // Anything timed is in seconds; anything sized is in bytes; no other units.
      if (/duration|latency|_to_|time/.test(m.name)) expect(m.name).toMatch(/_seconds$/);
      if (/byte/.test(m.name)) expect(m.name).toMatch(/_bytes(_total)?$/);
      expect(m.name).not.toMatch(/_(ms|milliseconds|kb|mb|minutes)(_|$)/);
    }
  });

  it('define the metrics the issue lists', async () => {
    const names = new Set((await json(everything())).map((m) => `${m.name} ${m.type}`));
    for (const want of [
      'dumpstream_transcripts_received_total counter',
      'dumpstream_received_bytes_total counter',
      'dumpstream_segments_produced_total counter',
      'dumpstream_segments_parsed_total counter',
      'dumpstream_parse_warnings_total counter',
      'dumpstream_dumps_analysed_total counter',
      'dumpstream_findings_total counter',
      'dumpstream_faults_total counter',
      'dumpstream_werfault_processes histogram',
      'dumpstream_wer_chain_length histogram',
      'dumpstream_stage_duration_seconds histogram',
      'dumpstream_upload_to_report_seconds histogram',
      'dumpstream_consumer_lag_messages gauge',
      'dumpstream_dead_letters_total counter',
      'dumpstream_redis_errors_total counter',
      'dumpstream_kafka_errors_total counter',
    ]) {
      expect(names).toContain(want);
    }
  });

  it('stay on the registry they are given (never the global one) and give the same objects twice', async () => {
    const a = new Registry();
    const b = new Registry();
    expect(detectMetrics(a)).toBe(detectMetrics(a));
    expect(detectMetrics(b)).not.toBe(detectMetrics(a));
    // Helpers on one registry share what they both define.
    expect(parseMetrics(a).kafkaErrors).toBe(detectMetrics(a).kafkaErrors);
    expect(ingestMetrics(a).kafkaErrors).toBe(detectMetrics(a).kafkaErrors);
    detectMetrics(a).dumpsAnalysed.inc({ outcome: 'complete' });
    expect(await a.getSingleMetricAsString('dumpstream_dumps_analysed_total')).toContain('dumpstream_dumps_analysed_total{outcome="complete"} 1');
    expect(await b.getSingleMetricAsString('dumpstream_dumps_analysed_total')).toContain('dumpstream_dumps_analysed_total{outcome="complete"} 0');
    expect(register.getSingleMetric('dumpstream_dumps_analysed_total')).toBeUndefined();
  });

  it('start the known label values at zero, so that increase() sees the first event', async () => {
    const registry = everything();
    const text = await registry.metrics();
    for (const outcome of DUMP_OUTCOMES) expect(text).toContain(`dumpstream_dumps_analysed_total{outcome="${outcome}"} 0`);
    for (const severity of FINDING_SEVERITIES) expect(text).toContain(`dumpstream_findings_total{pattern="error-reporting-fault",severity="${severity}"} 0`);
    expect(text).toContain('dumpstream_transcripts_received_total{way="spool"} 0');
    expect(text).toContain('dumpstream_segments_parsed_total{outcome="dead-letter"} 0');
    for (const topic of ['segments', 'facts', 'manifests']) expect(text).toContain(`dumpstream_consumer_lag_messages{topic="${topic}"} 0`);
  });

  it('count the severities the detector gives (drift guard against @dumpstream/detect)', () => {
    const given = new Set<string>();
    for (const depth of [2, 3, 4, 5, 10]) for (const n of [2, 9, 10, 99, 100]) given.add(severityOf(depth, n));
    expect([...given].sort()).toEqual([...FINDING_SEVERITIES].sort());
  });

  it('cap the root image and host labels of faults, with an other bucket', async () => {
    const registry = new Registry();
    const m = detectMetrics(registry, { labelCap: 2 });
    for (let i = 0; i < 100; i++) m.countFault(`odd-${i}.exe`, `host-${i % 3}`);
    m.countFault(null, null);
    const values = (await json(registry)).find((x) => x.name === 'dumpstream_faults_total')!.values;
    const images = new Set(values.map((v) => v.labels.root_image));
    const hosts = new Set(values.map((v) => v.labels.host));
    expect([...images].sort()).toEqual(['odd-0.exe', 'odd-1.exe', 'other', 'unknown']);
    expect([...hosts].sort()).toEqual(['host-0', 'host-1', 'other', 'unknown']);
    expect(values.reduce((n, v) => n + v.value, 0)).toBe(101);
    expect(values.find((v) => v.labels.root_image === 'other' && v.labels.host === 'other')!.value).toBe(33);
  });

  it('give a service registry its name as a label and the default process metrics', async () => {
    const registry = serviceRegistry('parse');
    parseMetrics(registry);
    const text = await registry.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total\{service="parse"\} /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="parse"\} /m);
    expect(text).toContain('dumpstream_segments_parsed_total{outcome="ok",service="parse"} 0');
  });
});

describe('the storm metrics', () => {
  it('export the fleet gauges only while shown (0 otherwise, so max() over workers is the evaluator\'s), named by signature with the rest as other, never by host', async () => {
    const registry = new Registry();
    const m = stormMetrics(registry);
    const series = async () =>
      (await json(registry))
        .filter((x) => /storms_active|fleet_signature|last_evaluation/.test(x.name))
        .flatMap((x) => x.values.map((v) => `${x.name}${JSON.stringify(v.labels)} ${v.value}`))
        .sort();
    // Not the evaluator: no signature at all, and 0 where a series without labels cannot be removed.
    const idle = ['dumpstream_storm_last_evaluation_timestamp_seconds{} 0', 'dumpstream_storms_active{} 0'];
    expect(await series()).toEqual(idle);
    m.showFleet(1, [{ signature: 'v1:a.exe!a!f', dumpsInWindow: 60, hostsInWindow: 30, storming: true }, { signature: 'other', dumpsInWindow: 4, hostsInWindow: 3, storming: false }], 1_000_000);
    expect(await series()).toEqual([
      'dumpstream_fleet_signature_dumps{"signature":"other"} 4',
      'dumpstream_fleet_signature_dumps{"signature":"v1:a.exe!a!f"} 60',
      'dumpstream_fleet_signature_hosts{"signature":"other"} 3',
      'dumpstream_fleet_signature_hosts{"signature":"v1:a.exe!a!f"} 30',
      'dumpstream_fleet_signature_storming{"signature":"other"} 0',
      'dumpstream_fleet_signature_storming{"signature":"v1:a.exe!a!f"} 1',
      'dumpstream_storm_last_evaluation_timestamp_seconds{} 1000',
      'dumpstream_storms_active{} 1',
    ]);
    // A signature that left the top is not left behind.
    m.showFleet(0, [{ signature: 'v1:b.exe!<no-stack>', dumpsInWindow: 1, hostsInWindow: 1, storming: false }], 2_000_000);
    expect((await series()).filter((s) => s.includes('a.exe'))).toEqual([]);
    m.hideFleet();
    expect(await series()).toEqual(idle);
  });
});
