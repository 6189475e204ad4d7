/**
 * What the deploy files may name: the metrics dumpstream's services export (read off registries
 * made by the services' own metric helpers) and a small reader of PromQL that lists the metric
 * names and label names an expression uses. Used by the dashboard and alert-rule drift guards.
 */
import { detectMetrics, ingestMetrics, parseMetrics, serviceRegistry, stormMetrics } from '@dumpstream/metrics';
import type { Registry } from 'prom-client';

/** Label names every scraped series has besides its own: set by Prometheus (job, instance) and by each service's registry (service). */
export const TARGET_LABELS = ['job', 'instance', 'service'];

/** Series Prometheus makes itself for every target, with their label names. */
const SYNTHETIC: Record<string, string[]> = { up: [], scrape_duration_seconds: [], scrape_samples_scraped: [] };

/**
 * Every series name a dumpstream service exports (histograms as their _bucket, _sum and _count
 * series), each with the label names it may carry.
 */
export async function exportedSeries(): Promise<Map<string, Set<string>>> {
  const registries: Registry[] = [];
  const ingest = serviceRegistry('ingest');
  ingestMetrics(ingest);
  const parse = serviceRegistry('parse');
  parseMetrics(parse);
  const detect = serviceRegistry('detect');
  detectMetrics(detect);
  stormMetrics(detect);
  registries.push(ingest, parse, detect);
  const out = new Map<string, Set<string>>();
  const add = (name: string, labels: Iterable<string>) => {
    const set = out.get(name) ?? new Set<string>(TARGET_LABELS);
    for (const l of labels) set.add(l);
    out.set(name, set);
  };
  for (const registry of registries) {
    for (const m of await registry.getMetricsAsJSON()) {
      const declared = (registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] }).labelNames ?? [];
      const seen = m.values.flatMap((v) => Object.keys(v.labels));
      const labels = [...declared, ...seen].filter((l) => l !== 'le');
      if (String(m.type) === 'histogram') {
        add(`${m.name}_bucket`, [...labels, 'le']);
        add(`${m.name}_sum`, labels);
        add(`${m.name}_count`, labels);
      } else if (String(m.type) === 'summary') {
        add(m.name, [...labels, 'quantile']);
        add(`${m.name}_sum`, labels);
        add(`${m.name}_count`, labels);
      } else {
        add(m.name, labels);
      }
    }
  }
  for (const [name, labels] of Object.entries(SYNTHETIC)) add(name, labels);
  return out;
}

/** One vector selector of an expression: its metric name and the label names its matchers use. */
export interface Selector {
  metric: string;
  labels: string[];
}

/** What an expression names: its selectors, and the label names of its by/without/on/ignoring/group clauses. */
export interface PromqlNames {
  selectors: Selector[];
  groupingLabels: string[];
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan', 'atan2', 'start', 'end']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/**
 * Reads the metric and label names out of a PromQL expression (Grafana's `$variables` allowed).
 * Not a full parser: enough for the expressions of dashboards and alert rules, and strict where
 * it is unsure (a name it cannot place is reported as a metric, so the drift guard fails loudly).
 * @throws Error on unbalanced brackets or an unterminated string.
 */
export function promqlNames(expr: string): PromqlNames {
  const src = stripStrings(expr);
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  const closing = (open: string, close: string, from: number): number => {
    let depth = 0;
    for (let j = from; j < src.length; j++) {
      if (src[j] === open) depth++;
      else if (src[j] === close && --depth === 0) return j;
    }
    throw new Error(`unbalanced ${open} in ${expr}`);
  };
  const matcherLabels = (body: string): string[] =>
    body
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean)
      .map((m) => /^([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/.exec(m)?.[1] ?? `?${m}`);
  while (i < src.length) {
    const c = src[i];
    if (c === '[') {
      i = closing('[', ']', i) + 1; // a range or subquery: durations only
      continue;
    }
    if (c === '{') {
      // A selector without a metric name: {__name__="…"}.
      const end = closing('{', '}', i);
      selectors.push({ metric: '', labels: matcherLabels(src.slice(i + 1, end)) });
      i = end + 1;
      continue;
    }
    const id = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(src.slice(i));
    if (!id) {
      i++;
      continue;
    }
    const word = id[0];
    const before = src[i - 1] ?? ' ';
    i += word.length;
    if (before === '$' || (before === '{' && src[i - word.length - 2] === '$') || /[0-9.]/.test(before)) continue; // a variable or part of a number
    skipSpace();
    if (GROUPING.has(word.toLowerCase())) {
      if (src[i] === '(') {
        const end = closing('(', ')', i);
        groupingLabels.push(
          ...src
            .slice(i + 1, end)
            .split(',')
            .map((l) => l.trim())
            .filter(Boolean),
        );
        i = end + 1;
      }
      continue;
    }
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (src[i] === '(' || /^(by|without)\s*\(/i.test(src.slice(i))) continue; // a function or an aggregation (`sum by (x) (…)`)
    if (src[i] === '{') {
      const end = closing('{', '}', i);
      selectors.push({ metric: word, labels: matcherLabels(src.slice(i + 1, end)) });
      i = end + 1;
    } else {
      selectors.push({ metric: word, labels: [] });
    }
  }
  return { selectors, groupingLabels };
}

/** The expression with every string literal emptied (`"a{b"` → `""`), so brackets in strings do not count. */
function stripStrings(expr: string): string {
  let out = '';
  for (let i = 0; i < expr.length; i++) {
    const q = expr[i];
    if (q !== '"' && q !== "'" && q !== '`') {
      out += q;
      continue;
    }
    let j = i + 1;
    while (j < expr.length && expr[j] !== q) j += expr[j] === '\\' && q !== '`' ? 2 : 1;
    if (j >= expr.length) throw new Error(`unterminated string in ${expr}`);
    out += q + q;
    i = j;
  }
  return out;
}

/**
 * The problems with an expression's names: metrics that no service exports, and label names
 * that none of the expression's metrics carries. Empty when all is well.
 */
export function unknownNames(expr: string, exported: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  const { selectors, groupingLabels } = promqlNames(expr);
  const known = new Set<string>();
  for (const s of selectors) {
    const labels = exported.get(s.metric);
    if (!labels) {
      problems.push(s.metric === '' ? `a selector without a metric name` : `metric ${s.metric} is not exported by any service`);
      continue;
    }
    for (const l of labels) known.add(l);
    for (const l of s.labels) if (!labels.has(l)) problems.push(`${s.metric} has no label ${l}`);
  }
  for (const l of groupingLabels) if (!known.has(l) && selectors.length > 0) problems.push(`no metric of the expression has the label ${l}`);
  return problems;
}
