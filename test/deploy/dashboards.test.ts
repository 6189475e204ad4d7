/**
 * The Grafana dashboards in deploy/grafana/dashboards: every query names only metrics (and labels)
 * that the services export, read off registries made by the services' own metric helpers; the
 * panels the issue lists are there; the provisioning and docker-compose.yml fit together.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { exportedSeries, promqlNames, unknownNames } from '../support/promql';

const ROOT = path.join(__dirname, '..', '..');
const GRAFANA = path.join(ROOT, 'deploy', 'grafana');
const DASHBOARDS = path.join(GRAFANA, 'dashboards');

interface Target {
  expr?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string; query?: { query: string } | string }[] };
}

const files = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort();
const dashboards = files.map((f) => ({ file: f, board: JSON.parse(readFileSync(path.join(DASHBOARDS, f), 'utf8')) as Dashboard }));
const panels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
/** Grafana's own variables, as a PromQL duration (the query names are what matter here). */
const withoutVariables = (expr: string): string => expr.replace(/\$__(rate_interval|range|interval)\b|\$\{__(rate_interval|range|interval)\}/g, '5m');

/** Every query of a dashboard: panel targets and template variables, with where they are. */
function queries(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  for (const p of panels(d)) for (const t of p.targets ?? []) if (t.expr) out.push({ where: `panel "${p.title}"`, expr: withoutVariables(t.expr) });
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? v.definition ?? '');
    const m = /^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/.exec(q.trim());
    if (!m) throw new Error(`${d.title}: variable ${v.name} has a query this test does not read: ${q}`);
    out.push({ where: `variable ${v.name}`, expr: `sum by (${m[2]}) (${m[1]})` });
  }
  return out;
}

describe('the PromQL reader of these tests', () => {
  it('finds metric names and labels, and not functions, keywords, durations, strings or variables', () => {
    expect(promqlNames('histogram_quantile(0.95, sum by (le, stage) (rate(a_bucket{x=~"$v", y!="}"}[5m]))) / on (stage) group_left b offset 1h > bool 1e3')).toEqual({
      selectors: [
        { metric: 'a_bucket', labels: ['x', 'y'] },
        { metric: 'b', labels: [] },
      ],
      groupingLabels: ['le', 'stage', 'stage'],
    });
    expect(promqlNames('sum(up) by (job) unless count without (instance) (c) and d{}').selectors.map((s) => s.metric)).toEqual(['up', 'c', 'd']);
  });
});

describe('the Grafana dashboards', () => {
  let exported: Map<string, Set<string>>;
  beforeAll(async () => {
    exported = await exportedSeries();
  });

  it('would catch a metric no service exports and a label a metric lacks (bad input on purpose)', () => {
    expect(unknownNames('sum by (root_image) (rate(dumpstream_faults_total{hostname="a"}[5m])) + dumpstream_nope_total', exported)).toEqual([
      'dumpstream_faults_total has no label hostname',
      'metric dumpstream_nope_total is not exported by any service',
    ]);
    expect(unknownNames('sum by (severity) (dumpstream_dumps_analysed_total)', exported)).toEqual(['no metric of the expression has the label severity']);
  });

  it('are there: faults, pipeline and storms', () => {
    expect(files).toEqual(['dumpstream-faults.json', 'dumpstream-pipeline.json', 'dumpstream-storms.json']);
    expect(new Set(dashboards.map((d) => d.board.uid)).size).toBe(dashboards.length);
  });

  it.each(dashboards)('$file: every query names only metrics and labels the services export', ({ board }) => {
    const problems: string[] = [];
    const all = queries(board);
    expect(all.length).toBeGreaterThan(10);
    for (const q of all) for (const p of unknownNames(q.expr, exported)) problems.push(`${q.where}: ${p} (${q.expr})`);
    expect(problems).toEqual([]);
  });

  it('together query every dumpstream metric the services export', () => {
    const used = new Set(dashboards.flatMap((d) => queries(d.board)).flatMap((q) => promqlNames(q.expr).selectors.map((s) => s.metric.replace(/_(bucket|sum|count)$/, ''))));
    const ours = [...exported.keys()].filter((n) => n.startsWith('dumpstream_')).map((n) => n.replace(/_(bucket|sum|count)$/, ''));
    expect([...new Set(ours)].filter((n) => !used.has(n))).toEqual([]);
  });

  it.each(dashboards)('$file: panels are well formed and read the provisioned Prometheus', ({ board }) => {
    const ds = parseYaml(readFileSync(path.join(GRAFANA, 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: { uid: string; type: string }[] };
    const uid = ds.datasources[0].uid;
    const ids = panels(board).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels(board)) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.title.length).toBeGreaterThan(3);
      expect(p.targets?.length).toBeGreaterThan(0);
      expect(p.datasource).toEqual({ type: 'prometheus', uid });
      for (const t of p.targets!) expect(t.datasource ?? p.datasource).toEqual({ type: 'prometheus', uid });
    }
  });

  it('show what the issue asks for', () => {
    const titles = dashboards.flatMap((d) => panels(d.board).map((p) => p.title));
    for (const want of [
      /faults over time by root image/i,
      /faults over time by host/i,
      /wer chains found/i,
      /chain length/i,
      /werfault\.exe processes per dump/i,
      /top root images/i,
      /transcripts received/i,
      /segments produced and parsed/i,
      /dumps analysed by outcome/i,
      /upload to report/i,
      /stage duration/i,
      /consumer lag/i,
      /dead letters/i,
      /redis and kafka errors/i,
      /^active storms$/i,
      /top signatures over time/i,
      /hosts affected/i,
    ]) {
      expect(titles.filter((t) => want.test(t))).not.toEqual([]);
    }
  });

  it('are provisioned from the folder docker-compose.yml mounts', () => {
    const compose = parseYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, { volumes?: string[] }> };
    const volumes = compose.services.grafana.volumes ?? [];
    const provider = parseYaml(readFileSync(path.join(GRAFANA, 'provisioning', 'dashboards', 'dumpstream.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
    expect(volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(volumes).toContain(`./deploy/grafana/dashboards:${provider.providers[0].options.path}:ro`);
  });
});
