#!/usr/bin/env node
// npm run bench — what a user waits for and how much memory it takes, measured on whole processes.
//
// Parser part (issue 9). Two generated inputs sized by BENCH_MB (default 200), written once into
// ~/.cache/dumpstream/bench/ under versioned names (bench/inputs.mjs), deterministic:
//   frame-heavy  an ordinary kd session, the spec this bench always used: 22 k processes, 4–8
//                threads, 10–20 frames a stack; it overshoots BENCH_MB (277 MB at 200)
//   storm        a WER storm's process listing: 3,000 processes in `!process 0 0` form (2,400
//                WerFault.exe in 500 chains linked by ParentCid), re-printed up to BENCH_MB
// On each input, BENCH_RUNS (default 5) rounds; in each round every command below runs once as a
// separate process, in this order (A B C … A B C …, so a change in the machine's load hits all
// of them alike), stdout to /dev/null:
//   split       node bench/split.mjs FILE           bare Node: read 1 MiB chunks, decode UTF-8, split lines
//   awk         LC_ALL=C awk '<process table>' FILE   pid, parent, image of each PROCESS block (gawk here)
//   analyze     node packages/cli/dist/main.js analyze FILE                 (text, the default)
//   json        node packages/cli/dist/main.js analyze --format json FILE
//   stdin       cat FILE | node packages/cli/dist/main.js analyze -         (text)
//   parse-only  node bench/parse-only.mjs FILE      the Segmenter alone (no graph, detect, report),
//               for reference; BENCH_PARSE_ONLY=0 leaves it out
// Wall clock is taken here around each process (spawn to exit; a few ms of /usr/bin/time and, for
// stdin, sh are included); peak RSS is GNU time's %M (max resident set of the measured process;
// for stdin, of node, not cat); CPU seconds are GNU time's user + sys of that process, printed
// beside (steadier than wall clock when others share the machine, but not the issue's measure). Each file is read once before the rounds (page cache warm) and
// checked once per cache entry: analyze must exit 0 and, on the storm, report an Error Reporting
// Fault. The table gives medians over the rounds (min–max beside), MB/s = file MB / median s,
// peak RSS = the largest of the rounds, and the issue's ratios, each with its goal, met or not:
//   analyze/split = split s / analyze s (≥ 0.30, both inputs); analyze vs awk on the storm =
//   awk s / analyze s (≥ 1.5); json/split on frame-heavy (≥ 0.15); analyze's peak RSS on
//   frame-heavy (≤ 512 MiB).
// BENCH_BIG=1 (off by default: minutes, ~2 GB of disk) adds the memory test: a frame-heavy
// transcript of BENCH_BIG_MB (default 2000) MB, `analyze` once (peak RSS goal ≤ 768 MiB) and
// `analyze --format json` once piped to `wc -c` (time, peak RSS, bytes out). Whether the fact
// limit cut the report (facts-capped) is read from the text report. DUMP_MAX_FACTS in the
// environment reaches analyze as usual.
//
//   npm run bench                                  parser part, then the distributed part
//   BENCH_ONLY=parser BENCH_RUNS=5 npm run bench   parser part only
//   BENCH_ONLY=big npm run bench                   the 2 GB memory test only
//   BENCH_ONLY=distributed npm run bench           distributed part only (bench/distributed.mjs)
//   BENCH_JSON=out.json …                          also write the figures as JSON
//   BENCH_QUIET_LOAD=1.5 …                         wait for the load average to drop before each round
//
// Needs GNU time at /usr/bin/time (apt-get install -y time). The machine's load matters: the
// load averages before and after each input are printed; record them with the figures.
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bigInput, cacheDir, ensureInput, freeBytes, frameHeavyInput, root, stormInput } from './inputs.mjs';

const MB = Number(process.env.BENCH_MB ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 2000);
const ONLY = process.env.BENCH_ONLY;
const PARSE_ONLY = process.env.BENCH_PARSE_ONLY !== '0';
const TIME = '/usr/bin/time';
const CLI = path.join(root, 'packages/cli/dist/main.js');
const AWK_ENV = { ...process.env, LC_ALL: 'C' };

// The process table only: pid, parent, image of each PROCESS block. No threads, stacks, context.
const AWK = `
/^[ \\t]*PROCESS / { pid = ""; parent = ""; next }
/Cid:/ { for (i = 1; i < NF; i++) { if ($i == "Cid:") pid = $(i + 1); if ($i == "ParentCid:") parent = $(i + 1) } next }
/^[ \\t]*Image: / { n++; print pid, parent, $2 }
END { print n > "/dev/stderr" }`;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dumpstream-bench-'));
/** Measured processes still running: ended with the bench (sh -c ones take their pipeline down by process group). */
const running = new Set();
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const p of running) {
      try {
        process.kill(-p.pid, 'SIGTERM');
      } catch {}
    }
    process.exit(130);
  });
}

/** The commands of one round, in order. `argv` runs under GNU time; `pipeFrom`: `cat FILE |` first. */
function commands(file) {
  const list = [
    { key: 'split', name: 'bare Node read + split (bench/split.mjs)', argv: ['node', path.join(root, 'bench/split.mjs'), file] },
    { key: 'awk', name: 'awk process table (LC_ALL=C)', argv: ['awk', AWK, file], env: AWK_ENV },
    { key: 'analyze', name: 'dumpstream analyze FILE (text)', argv: ['node', CLI, 'analyze', file] },
    { key: 'json', name: 'dumpstream analyze --format json FILE', argv: ['node', CLI, 'analyze', '--format', 'json', file] },
    { key: 'stdin', name: 'cat FILE | dumpstream analyze - (text)', argv: ['node', CLI, 'analyze', '-'], pipeFrom: file },
  ];
  if (PARSE_ONLY) list.push({ key: 'parseOnly', name: 'parser only, one process (bench/parse-only.mjs)', argv: ['node', path.join(root, 'bench/parse-only.mjs'), file] });
  return list;
}

/**
 * Runs one command as its own process; stdout to /dev/null unless `out` (a path, or 'wc' for a
 * pipe into `wc -c`). Resolves { seconds, rssMiB, stderr, outBytes }.
 */
function measure(cmd, out = '/dev/null') {
  const timeFile = path.join(tmp, `time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const timed = [TIME, '-f', '%M %U %S', '-o', timeFile, ...cmd.argv];
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  let proc;
  const t0 = performance.now();
  if (cmd.pipeFrom || out === 'wc') {
    const line = `${cmd.pipeFrom ? `cat ${q(cmd.pipeFrom)} | ` : ''}${timed.map(q).join(' ')}${out === 'wc' ? ' | wc -c' : ` > ${q(out)}`}`;
    proc = spawn('sh', ['-c', line], { stdio: ['ignore', 'pipe', 'pipe'], env: cmd.env ?? process.env, detached: true });
  } else {
    const fd = openSync(out, 'w');
    proc = spawn(timed[0], timed.slice(1), { stdio: ['ignore', fd, 'pipe'], env: cmd.env ?? process.env, detached: true });
    closeSync(fd);
  }
  let stderr = '';
  let stdout = '';
  running.add(proc);
  proc.stderr.on('data', (d) => (stderr += d));
  proc.stdout?.on('data', (d) => (stdout += d));
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => {
      running.delete(proc);
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`${cmd.name} exited ${code}: ${stderr.slice(-2000)}`));
      const [kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      rmSync(timeFile, { force: true });
      resolve({ seconds, cpuSeconds: user + sys, rssMiB: kb / 1024, stderr, outBytes: out === 'wc' ? Number(stdout.trim()) : null });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const round2 = (x) => Math.round(x * 100) / 100;

/**
 * BENCH_QUIET_LOAD=x: before each round, wait (up to BENCH_QUIET_WAIT seconds, default 600) until
 * the 1-minute load average is below x. For a shared machine; the waits are printed.
 */
async function quiet() {
  const limit = Number(process.env.BENCH_QUIET_LOAD ?? Infinity);
  const deadline = Date.now() + Number(process.env.BENCH_QUIET_WAIT ?? 600) * 1000;
  if (os.loadavg()[0] < limit) return;
  process.stderr.write(`  waiting for load < ${limit} (now ${load()}) …\n`);
  while (os.loadavg()[0] >= limit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5000));
  process.stderr.write(`  … load ${load()}${os.loadavg()[0] >= limit ? ' (gave up waiting)' : ''}\n`);
}

async function warm(file) {
  for await (const _ of createReadStream(file, { highWaterMark: 1 << 20 }));
}

/**
 * Once per cached input: analyze must exit 0 (and find the storm in the storm listing). Reads the
 * text report's summary line (lines, processes, threads, frames). Cached beside the input.
 */
async function check(input) {
  const cached = `${input.file}.check.json`;
  if (existsSync(cached) && statSync(cached).mtimeMs >= statSync(input.file).mtimeMs) return JSON.parse(readFileSync(cached, 'utf8'));
  process.stderr.write(`checking ${path.basename(input.file)} with dumpstream analyze (once) …\n`);
  const report = path.join(tmp, 'check.txt');
  await measure({ name: 'check', argv: ['node', CLI, 'analyze', input.file] }, report);
  const text = readFileSync(report, 'utf8');
  const m = /(\d+) lines, (\d+) processes, (\d+) threads, (\d+) frames/.exec(text);
  const result = {
    lines: m ? Number(m[1]) : null,
    processes: m ? Number(m[2]) : null,
    threads: m ? Number(m[3]) : null,
    frames: m ? Number(m[4]) : null,
    errorReportingFault: text.includes('ERROR REPORTING FAULT'),
    factsCapped: /holds more than \d+ facts/.test(text),
  };
  if (input.key === 'storm' && !result.errorReportingFault) throw new Error(`dumpstream finds no Error Reporting Fault in ${input.file}: not a storm input`);
  writeFileSync(cached, JSON.stringify(result) + '\n');
  return result;
}

async function benchInput(input) {
  const gen = await ensureInput(input);
  const bytes = statSync(input.file).size;
  await warm(input.file);
  const facts = await check(input);
  const cmds = commands(input.file);
  const loadBefore = load();
  const runs = Object.fromEntries(cmds.map((c) => [c.key, []]));
  for (let r = 0; r < RUNS; r++) {
    await quiet();
    for (const c of cmds) {
      const m = await measure(c);
      runs[c.key].push({ seconds: Math.round(m.seconds * 1000) / 1000, cpuSeconds: round2(m.cpuSeconds), rssMiB: Math.round(m.rssMiB), load1: os.loadavg()[0] });
      process.stderr.write(`  ${input.key} round ${r + 1}/${RUNS} ${c.key.padEnd(9)} ${m.seconds.toFixed(2)} s (cpu ${m.cpuSeconds.toFixed(2)} s) ${m.rssMiB.toFixed(0)} MiB  load ${load()}\n`);
    }
  }
  const loadAfter = load();
  const results = {};
  for (const c of cmds) {
    const secs = runs[c.key].map((x) => x.seconds);
    const med = median(secs);
    results[c.key] = {
      name: c.name,
      medianSeconds: round2(med),
      minSeconds: Math.min(...secs),
      maxSeconds: Math.max(...secs),
      mbPerSecond: Math.round(bytes / 1e6 / med),
      medianCpuSeconds: round2(median(runs[c.key].map((x) => x.cpuSeconds))),
      peakRssMiB: Math.max(...runs[c.key].map((x) => x.rssMiB)),
      runs: runs[c.key],
    };
  }
  return { key: input.key, title: input.title, file: input.file, bytes, generatedSeconds: gen.generatedSeconds, facts, loadBefore, loadAfter, results };
}

function goals(byKey) {
  const out = [];
  const ratio = (a, b) => round2(a / b);
  const fh = byKey['frame-heavy'];
  const st = byKey.storm;
  // value: the ratio of median wall seconds (the issue's measure); cpu: the same ratio of median
  // user+sys CPU seconds, steadier on a shared machine (not the goal: a parser on worker threads
  // may spend more CPU than wall).
  const g = (what, value, goal, met, cpu = null) => out.push({ what, value, cpu, goal, met });
  const c = (r, a, b) => ratio(r[a].medianCpuSeconds, r[b].medianCpuSeconds);
  if (fh) {
    const r = fh.results;
    g('frame-heavy: analyze / split (split s ÷ analyze s)', ratio(r.split.medianSeconds, r.analyze.medianSeconds), '≥ 0.30', r.split.medianSeconds / r.analyze.medianSeconds >= 0.3, c(r, 'split', 'analyze'));
    g('frame-heavy: json / split', ratio(r.split.medianSeconds, r.json.medianSeconds), '≥ 0.15', r.split.medianSeconds / r.json.medianSeconds >= 0.15, c(r, 'split', 'json'));
    g('frame-heavy: analyze peak RSS (MiB)', r.analyze.peakRssMiB, '≤ 512', r.analyze.peakRssMiB <= 512);
    g('frame-heavy: analyze vs awk (awk s ÷ analyze s)', ratio(r.awk.medianSeconds, r.analyze.medianSeconds), '—', null, c(r, 'awk', 'analyze'));
    g('frame-heavy: stdin / file (file s ÷ stdin s)', ratio(r.analyze.medianSeconds, r.stdin.medianSeconds), '— (stdin as well as a file)', null, c(r, 'analyze', 'stdin'));
  }
  if (st) {
    const r = st.results;
    g('storm: analyze / split', ratio(r.split.medianSeconds, r.analyze.medianSeconds), '≥ 0.30', r.split.medianSeconds / r.analyze.medianSeconds >= 0.3, c(r, 'split', 'analyze'));
    g('storm: analyze vs awk (awk s ÷ analyze s)', ratio(r.awk.medianSeconds, r.analyze.medianSeconds), '≥ 1.5', r.awk.medianSeconds / r.analyze.medianSeconds >= 1.5, c(r, 'awk', 'analyze'));
    g('storm: json / split', ratio(r.split.medianSeconds, r.json.medianSeconds), '—', null, c(r, 'split', 'json'));
    g('storm: analyze peak RSS (MiB)', r.analyze.peakRssMiB, '—', null);
    g('storm: stdin / file (file s ÷ stdin s)', ratio(r.analyze.medianSeconds, r.stdin.medianSeconds), '— (stdin as well as a file)', null, c(r, 'analyze', 'stdin'));
  }
  return out;
}

function printInput(x) {
  const f = x.facts;
  console.log(`\n${x.title}: ${(x.bytes / 1e6).toFixed(1)} MB, ${f.lines} lines, ${f.processes} processes, ${f.threads} threads, ${f.frames} frames${f.factsCapped ? ' (facts-capped!)' : ''}`);
  console.log(`  ${x.file}${x.generatedSeconds === null ? ' (cached)' : ` (generated in ${x.generatedSeconds.toFixed(1)} s)`}; load average before ${x.loadBefore}, after ${x.loadAfter}`);
  console.log(`  ${'command'.padEnd(50)} ${'median s'.padStart(9)} ${'(min–max)'.padStart(15)} ${'MB/s'.padStart(6)} ${'cpu s'.padStart(7)} ${'peak RSS MiB'.padStart(13)}`);
  for (const r of Object.values(x.results)) {
    console.log(`  ${r.name.padEnd(50)} ${r.medianSeconds.toFixed(2).padStart(9)} ${`(${r.minSeconds.toFixed(2)}–${r.maxSeconds.toFixed(2)})`.padStart(15)} ${String(r.mbPerSecond).padStart(6)} ${r.medianCpuSeconds.toFixed(2).padStart(7)} ${String(r.peakRssMiB).padStart(13)}`);
  }
}

async function benchParser() {
  const byKey = {};
  for (const input of [frameHeavyInput(MB), stormInput(MB)]) byKey[input.key] = await benchInput(input);
  console.log(`dumpstream, whole processes — BENCH_MB=${MB}, medians of ${RUNS} interleaved rounds; ${os.cpus().length} × ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${awkVersion()}`);
  for (const x of Object.values(byKey)) printInput(x);
  const gs = goals(byKey);
  console.log('\nratios (issue 9): of median wall seconds [of median CPU seconds, for reference]');
  for (const g of gs) console.log(`  ${g.what.padEnd(50)} ${String(g.value).padStart(7)} ${(g.cpu === null ? '' : `[${g.cpu}]`).padStart(7)}   goal ${g.goal}${g.met === null ? '' : g.met ? '   met' : '   NOT met'}`);
  return { inputs: byKey, goals: gs };
}

/** The memory test: one text run and one JSON run (into wc -c) on a ~2 GB frame-heavy transcript. */
async function benchBig() {
  const input = bigInput(BIG_MB);
  if (!existsSync(input.file)) process.stderr.write(`disk: ${(freeBytes() / 1e9).toFixed(1)} GB free in ${cacheDir}\n`);
  const gen = await ensureInput(input);
  const bytes = statSync(input.file).size;
  await warm(input.file);
  const loadBefore = load();
  const report = path.join(tmp, 'big-report.txt');
  process.stderr.write(`  big: analyze (text) …\n`);
  const text = await measure({ name: 'analyze (text)', argv: ['node', CLI, 'analyze', input.file] }, report);
  const reportText = readFileSync(report, 'utf8');
  const capped = /holds more than (\d+) facts[^:]*: (?:the report covers lines 1-(\d+))?/.exec(reportText);
  const summary = /(\d+) lines, (\d+) processes, (\d+) threads, (\d+) frames/.exec(reportText);
  process.stderr.write(`  big: analyze --format json | wc -c …\n`);
  const json = await measure({ name: 'analyze --format json', argv: ['node', CLI, 'analyze', '--format', 'json', input.file] }, 'wc');
  const loadAfter = load();
  const big = {
    file: input.file,
    bytes,
    generatedSeconds: gen.generatedSeconds,
    loadBefore,
    loadAfter,
    dumpMaxFacts: process.env.DUMP_MAX_FACTS ?? null,
    report: summary ? { lines: Number(summary[1]), processes: Number(summary[2]), threads: Number(summary[3]), frames: Number(summary[4]) } : null,
    factsCapped: capped ? { limit: Number(capped[1]), coveredLines: capped[2] ? Number(capped[2]) : null } : null,
    text: { seconds: round2(text.seconds), cpuSeconds: round2(text.cpuSeconds), mbPerSecond: Math.round(bytes / 1e6 / text.seconds), peakRssMiB: Math.round(text.rssMiB), goal: '≤ 768 MiB', met: text.rssMiB <= 768 },
    json: { seconds: round2(json.seconds), cpuSeconds: round2(json.cpuSeconds), mbPerSecond: Math.round(bytes / 1e6 / json.seconds), peakRssMiB: Math.round(json.rssMiB), outputBytes: json.outBytes },
  };
  console.log(`\nmemory test: frame-heavy ${(bytes / 1e6).toFixed(0)} MB${gen.generatedSeconds === null ? ' (cached)' : ` (generated in ${gen.generatedSeconds.toFixed(1)} s)`}, one run each; load average before ${loadBefore}, after ${loadAfter}`);
  if (big.report) console.log(`  report: ${big.report.lines} lines, ${big.report.processes} processes, ${big.report.threads} threads, ${big.report.frames} frames`);
  console.log(`  ${big.factsCapped ? `facts-capped at ${big.factsCapped.limit} facts: the report covers lines 1-${big.factsCapped.coveredLines} only` : 'not facts-capped: the report covers the whole transcript'}${big.dumpMaxFacts ? ` (DUMP_MAX_FACTS=${big.dumpMaxFacts})` : ''}`);
  console.log(`  analyze (text):         ${big.text.seconds.toFixed(1)} s (cpu ${big.text.cpuSeconds.toFixed(1)} s), ${big.text.mbPerSecond} MB/s, peak RSS ${big.text.peakRssMiB} MiB   goal ≤ 768 MiB   ${big.text.met ? 'met' : 'NOT met'}`);
  console.log(`  analyze --format json:  ${big.json.seconds.toFixed(1)} s (cpu ${big.json.cpuSeconds.toFixed(1)} s), ${big.json.mbPerSecond} MB/s, peak RSS ${big.json.peakRssMiB} MiB, ${(big.json.outputBytes / 1e6).toFixed(0)} MB of JSON out`);
  return big;
}

function awkVersion() {
  try {
    return execFileSync('awk', ['--version'], { encoding: 'utf8' }).split('\n')[0].split(',')[0];
  } catch {
    return 'awk (version unknown)';
  }
}

if (ONLY === 'distributed') {
  const { benchDistributed } = await import('./distributed.mjs');
  await benchDistributed();
  process.exit(0);
}
if (!existsSync(TIME)) {
  console.error(`bench: needs GNU time at ${TIME} for peak RSS (apt-get install -y time)`);
  process.exit(2);
}
const figures = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0].model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, awk: awkVersion() }, mb: MB, runs: RUNS };
if (ONLY !== 'big') Object.assign(figures, await benchParser());
if (process.env.BENCH_BIG === '1' || ONLY === 'big') figures.big = await benchBig();
if (process.env.BENCH_JSON) {
  writeFileSync(process.env.BENCH_JSON, JSON.stringify(figures, null, 2) + '\n');
  process.stderr.write(`figures written to ${process.env.BENCH_JSON}\n`);
}

if (!ONLY) {
  console.log('');
  const { benchDistributed } = await import('./distributed.mjs');
  await benchDistributed();
}
