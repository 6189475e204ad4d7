/**
 * deploy/prometheus: `promtool check config` and `promtool check rules` accept the files, the rule
 * unit tests pass (`promtool test rules`), every alert has a test, the rules name only metrics the
 * services export, and the scrape configuration fits docker-compose.yml. Needs promtool (Debian:
 * apt-get install -y prometheus; .ci/run installs it), or, where the machine has none and the
 * tests run on the Docker path (an engine answers, or DUMPSTREAM_INFRA=docker), runs it from the
 * Prometheus image (DUMPSTREAM_PROMETHEUS_IMAGE, default prom/prometheus:v2.53.0) with
 * deploy/prometheus mounted read-only.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { chooseInfraSync, prometheusImage } from '../support/infra';
import { exportedSeries, unknownNames } from '../support/promql';

const ROOT = path.join(__dirname, '..', '..');
const PROMETHEUS = path.join(ROOT, 'deploy', 'prometheus');
const RULES = readdirSync(path.join(PROMETHEUS, 'rules')).filter((f) => f.endsWith('.yml')).map((f) => path.join('rules', f));
const TESTS = readdirSync(path.join(PROMETHEUS, 'tests')).filter((f) => f.endsWith('.yml')).map((f) => path.join('tests', f));

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}
interface RuleTestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

function promtool(...args: string[]): { status: number; output: string } {
  let r = spawnSync('promtool', args, { cwd: PROMETHEUS, encoding: 'utf8', timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    if (chooseInfraSync() !== 'docker') {
      throw new Error('promtool is not installed (Debian: apt-get install -y prometheus, which does not need its service started; or a Docker engine: the test then runs it from a container); .ci/run installs it');
    }
    const docker = ['run', '--rm', '--network', 'none', '-v', `${path.resolve(PROMETHEUS)}:/w:ro`, '-w', '/w', '--entrypoint', 'promtool', prometheusImage(), ...args];
    // a first run on Docker Desktop pulls the image
    r = spawnSync('docker', docker, { encoding: 'utf8', timeout: 300_000 });
    if (r.error) throw new Error(`docker ${docker.join(' ')}: ${r.error.message}`);
    if (r.status === 125) throw new Error(`docker ${docker.join(' ')} failed:\n${r.stderr}`);
  }
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

const rules = RULES.map((f) => ({ file: f, doc: parseYaml(readFileSync(path.join(PROMETHEUS, f), 'utf8')) as RuleFile }));
const alerts = rules.flatMap((r) => r.doc.groups.flatMap((g) => g.rules)).filter((r) => r.alert !== undefined);

describe('deploy/prometheus', () => {
  it('prometheus.yml passes promtool check config (with the rule files it loads)', () => {
    const r = promtool('check', 'config', 'prometheus.yml');
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('the rule files pass promtool check rules', () => {
    expect(RULES.length).toBeGreaterThan(0);
    const r = promtool('check', 'rules', ...RULES);
    expect(r.status).toBe(0);
    expect(r.output).not.toMatch(/FAILED/);
  });

  it('the rule unit tests pass (promtool test rules)', () => {
    expect(TESTS.length).toBeGreaterThan(0);
    const r = promtool('test', 'rules', ...TESTS);
    if (r.status !== 0) throw new Error(`promtool test rules failed:\n${r.output}`);
    expect(r.output).toContain('SUCCESS');
  });

  it('has the alerts the issue asks for, each tested firing', () => {
    const names = new Set(alerts.map((a) => a.alert!));
    expect([...names].sort()).toEqual(['ConsumerLagGrowing', 'DeadLettersGrowing', 'DumpstreamServiceDown', 'FleetStorm', 'FleetStormManyHosts', 'FleetWideWerStorm', 'PipelineStalled', 'StormEvaluatorMissing', 'WerRecursionStorm']);
    const tested = new Set<string>();
    for (const f of TESTS) {
      const doc = parseYaml(readFileSync(path.join(PROMETHEUS, f), 'utf8')) as RuleTestFile;
      for (const t of doc.tests) for (const a of t.alert_rule_test ?? []) if (a.exp_alerts.length > 0) tested.add(a.alertname);
    }
    expect([...names].filter((n) => !tested.has(n))).toEqual([]);
    // Every alert says what happened, for a person reading it.
    for (const a of alerts) expect(Object.keys(a.annotations ?? {}).sort()).toEqual(['description', 'summary']);
  });

  it('the rules name only metrics and labels the services export', async () => {
    const exported = await exportedSeries();
    const problems = alerts.flatMap((a) => unknownNames(a.expr, exported).map((p) => `${a.alert}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('scrapes the services where docker-compose.yml serves their metrics and loads the rules from the mounted folder', () => {
    const config = parseYaml(readFileSync(path.join(PROMETHEUS, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const compose = parseYaml(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; volumes?: string[]; command?: string[] }>;
    };
    const job = config.scrape_configs.find((j) => j.job_name === 'dumpstream')!;
    expect(job.dns_sd_configs[0].names.sort()).toEqual(['detect', 'ingest', 'parse']);
    for (const service of ['ingest', 'parse', 'detect']) {
      const listen = compose.services[service].environment?.HEALTH_LISTEN;
      expect(listen).toBe(`0.0.0.0:${job.dns_sd_configs[0].port}`);
    }
    expect(compose.services.prometheus.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(compose.services.prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(config.rule_files).toEqual(['rules/*.yml']);
  });
});
