#!/usr/bin/env node
// npm run bench: the parser's throughput on a large generated transcript, side by side in one run
// with a bare Node read-and-split-lines of the same bytes and with an awk script that extracts
// only the process table (pid, parent, image). Prints MB/s and ratios; best of BENCH_RUNS runs.
//
//   BENCH_MB=200 BENCH_RUNS=3 npm run bench
//
// The transcript is generated once per size and kept in ~/.cache/dumpstream/bench/.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { writeTranscript } = require(path.join(root, 'packages/generator/dist/index.js'));
const { analyzeTranscript } = require(path.join(root, 'packages/cli/dist/index.js'));
const { Segmenter } = require(path.join(root, 'packages/transcript/dist/index.js'));

const MB = Number(process.env.BENCH_MB ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const cache = path.join(process.env.DUMPSTREAM_CACHE ?? path.join(os.homedir(), '.cache', 'dumpstream'), 'bench');
mkdirSync(cache, { recursive: true });

// ~30 KB per ordinary process (4–8 threads, 10–20 frames each) plus WerFault chains and noise.
const spec = {
  seed: 42,
  os: 'win10',
  arch: 'x64',
  debugger: 'kd',
  processes: Math.max(100, Math.round((MB * 1e6) / 9000)),
  threadsPerProcess: [4, 8],
  framesPerStack: [10, 20],
  chains: [{ depth: 6, branching: 3, evidence: 'mixed' }, { depth: 3 }, { depth: 12, rootStack: 'paged-out' }],
  werfaultDecoys: 20,
  wow64: true,
  noise: 0.05,
  padToBytes: MB * 1e6,
};
const file = path.join(cache, `transcript-${MB}mb-v1.txt`);

async function ensureTranscript() {
  if (existsSync(file) && statSync(file).size >= MB * 1e6 * 0.9) return;
  process.stderr.write(`generating ${MB} MB transcript into ${file} …\n`);
  const t0 = performance.now();
  const w = await writeTranscript(spec, file);
  process.stderr.write(`  ${(w.bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

async function bareSplit() {
  let lines = 0;
  let carry = '';
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const parts = (carry + chunk.toString('utf8')).split('\n');
    carry = parts.pop();
    lines += parts.length;
  }
  return { lines: lines + (carry ? 1 : 0) };
}

// The process table only: pid, parent, image of each PROCESS block. No threads, stacks, context.
const AWK = `
/^[ \\t]*PROCESS / { pid = ""; parent = ""; next }
/Cid:/ { for (i = 1; i < NF; i++) { if ($i == "Cid:") pid = $(i + 1); if ($i == "ParentCid:") parent = $(i + 1) } next }
/^[ \\t]*Image: / { n++; print pid, parent, $2 }
END { print n > "/dev/stderr" }`;

function awk() {
  return new Promise((resolve, reject) => {
    const p = spawn('awk', [AWK, file], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve({ processes: Number(err.trim()) }) : reject(new Error(`awk exited ${code}: ${err}`))));
  });
}

// The parser: bytes → lines → segments with context → facts (every process, thread, wait, frame).
async function parser() {
  let frames = 0;
  let processes = 0;
  const seg = new Segmenter((_s, f) => {
    processes += f.processes.length;
    for (const st of f.stacks) frames += st.frames.length;
  });
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) seg.push(chunk);
  const sum = seg.end();
  return { segments: sum.segments, processFacts: processes, frames };
}

// Everything `dumpstream analyze` does but printing: parser, merge into the graph, detect, report.
async function dumpstream() {
  const r = await analyzeTranscript('bench', createReadStream(file, { highWaterMark: 1 << 20 }));
  return { processes: r.stats.processes, threads: r.stats.threads, frames: r.stats.frames, findings: r.findings.length };
}

async function best(name, fn) {
  let bestMs = Infinity;
  let result;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    result = await fn();
    bestMs = Math.min(bestMs, performance.now() - t0);
  }
  return { name, ms: bestMs, result };
}

if (process.env.BENCH_ONLY === "distributed") {
  const { benchDistributed } = await import("./distributed.mjs");
  await benchDistributed();
  process.exit(0);
}
await ensureTranscript();
const bytes = statSync(file).size;
const results = [];
results.push(await best('node read + split lines', bareSplit));
results.push(await best('awk process table (pid, parent, image)', awk));
results.push(await best('dumpstream parser (segment + parse to facts)', parser));
const heapBefore = process.memoryUsage().rss;
results.push(await best('dumpstream analyze (parser, graph, detect, report)', dumpstream));
const rss = process.memoryUsage().rss;

const mbs = (r) => bytes / 1e6 / (r.ms / 1000);
const [split, awkR, ds, whole] = results;
console.log(`dumpstream parser benchmark — ${(bytes / 1e6).toFixed(0)} MB transcript, best of ${RUNS}, ${os.cpus()[0].model}, node ${process.version}`);
for (const r of results) console.log(`  ${r.name.padEnd(48)} ${mbs(r).toFixed(0).padStart(6)} MB/s   ${JSON.stringify(r.result)}`);
console.log(`  parser / bare split:  ${(mbs(ds) / mbs(split)).toFixed(2)}   (goal ≥ 0.50)`);
console.log(`  parser / awk table:   ${(mbs(ds) / mbs(awkR)).toFixed(2)}   (goal > 1.00)`);
console.log(`  analyze / bare split: ${(mbs(whole) / mbs(split)).toFixed(2)}`);
console.log(`  resident memory after the runs: ${(rss / 1e6).toFixed(0)} MB (before parsing: ${(heapBefore / 1e6).toFixed(0)} MB)`);

if (process.env.BENCH_ONLY !== 'parser') {
  console.log('');
  const { benchDistributed } = await import('./distributed.mjs');
  await benchDistributed();
}
