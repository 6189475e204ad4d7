// The figures of the last fault runs (test/faults/results/figures.json, which every scenario
// rewrites as it runs) as the Markdown tables of docs/RELIABILITY.md.
//
//   node test/faults/support/print-figures.mjs [FLEET]            print the tables
//   node test/faults/support/print-figures.mjs [FLEET] --write    put them into docs/RELIABILITY.md,
//                                                                 between its <!-- figures:NAME --> markers
//
// FLEET picks the runs of that fleet size (the hostile and access runs have their own).
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..', '..');
const all = JSON.parse(readFileSync(path.join(here, '..', 'results', 'figures.json'), 'utf8'));
const args = process.argv.slice(2);
const write = args.includes('--write');
const want = args.find((a) => /^\d+$/.test(a));

const row = (cells) => `| ${cells.join(' | ')} |`;
const s = (n) => (n === null || n === undefined ? '–' : `${n} s`);
const day = (iso) => (iso ? iso.slice(0, 10) : '?');

const runs = [];
for (const [name, byFleet] of Object.entries(all.scenarios)) {
  for (const [k, f] of Object.entries(byFleet)) if (!want || k === `fleet-${want}` || name === 'hostile' || name === 'access') runs.push(f);
}

const sections = {};

sections.summary = [
  `Machine: ${all.machine.cpus} cores (${all.machine.cpuModel}), ${all.machine.memGB} GB, Node ${all.machine.node}, ${all.machine.platform}. Runs of ${[...new Set(runs.map((f) => day(f.ranAt)))].sort().join(', ')}.`,
  '',
  row(['scenario', 'dumps', 'MB', 'uploads (retries)', 'reports', 'equal to analyze', 'incomplete', 'duplicates', 'losses', 'alerts (problems)', 'dead letters', 'orphaned uploads (reported)', 'longest stall', 'run']),
  row(Array(14).fill('---')),
  ...runs.map((f) =>
    row([
      f.scenario,
      f.fleet,
      f.megabytes,
      `${f.uploads} (${f.failedUploads})`,
      f.reports,
      f.equalToAnalyze,
      f.incomplete,
      f.duplicates,
      f.losses,
      `${f.alerts} (${f.alertProblems})`,
      `${f.deadLetters} (${f.unexpectedDeadLetters} unexpected)`,
      `${f.orphanUploads} (${f.orphansReported})`,
      s(f.longestStallS),
      s(f.durationS),
    ]),
  ),
  '',
  `All runs together: ${Math.round(runs.reduce((n, f) => n + f.durationS, 0) / 60)} min of scenarios.`,
].join('\n');

sections.faults = [
  'Faults, and the time from the end of each to the next report published:',
  '',
  row(['scenario', 'fault', 'at', 'lasted', 'first report after']),
  row(Array(5).fill('---')),
  ...runs.flatMap((f) => f.faults.map((e) => row([f.scenario, e.what, s(e.atS), s(e.lastedS), s(e.recoveryS)]))),
].join('\n');

const hostile = all.scenarios.hostile && Object.values(all.scenarios.hostile)[0];
if (hostile) {
  const max = (p, prefix) => Math.max(...Object.entries(p).filter(([k]) => k.startsWith(prefix)).map(([, v]) => v));
  sections.hostile = [
    'Hostile inputs (one at a time, beside the ordinary fleet); peak resident memory per service while it was handled:',
    '',
    row(['input', 'MB', 'answer', 'answered after', 'reported after', 'report', 'ingest MB', 'parse MB (max)', 'detect MB (max)']),
    row(Array(9).fill('---')),
    ...hostile.inputs.map((r) => {
      const rep = r.report ? `${r.report.status}, ${r.report.processes} processes, warnings: ${r.report.warningKinds.join(', ') || 'none'}` : '–';
      return row([r.input, r.megabytes, `${r.status}${r.code ? ` ${r.code}` : ''}`, s(r.answeredS), s(r.reportedS), rep, r.peakRssMB['ingest-1'], max(r.peakRssMB, 'parse'), max(r.peakRssMB, 'detect')]);
    }),
    '',
    `20 uploads at once past a limit of 6: ${Object.entries(hostile.flood.statuses).map(([k, v]) => `${v} × ${k}`).join(', ')}. Slowloris headers closed after ${hostile.headerSlowlorisClosedAfterS} s; a body at 1 byte/s answered ${hostile.bodySlowloris.status} after ${hostile.bodySlowloris.closedAfterS} s. Services restarted meanwhile: ${hostile.servicesNeverRestarted ? 'none' : 'some'}.`,
  ].join('\n');
}

if (!write) {
  console.log(Object.values(sections).join('\n\n'));
} else {
  const doc = path.join(root, 'docs', 'RELIABILITY.md');
  let text = readFileSync(doc, 'utf8');
  for (const [name, body] of Object.entries(sections)) {
    const re = new RegExp(`(<!-- figures:${name} -->)[\\s\\S]*?(<!-- /figures:${name} -->)`);
    if (!re.test(text)) throw new Error(`${doc}: no <!-- figures:${name} --> … <!-- /figures:${name} --> markers`);
    text = text.replace(re, (_, open, close) => `${open}\n${body}\n${close}`);
  }
  writeFileSync(doc, text);
  console.log(`${doc}: figures of ${runs.length} runs written`);
}
