// Summarises `node --cpu-prof` profiles (bench/distributed.mjs BENCH_PROFILE=DIR): per directory
// (one service process), the share of samples by where the code lives (kafkajs, its CRC32C, avsc,
// the parser, zlib, GC, …) and the top functions by self time.
//   node bench/profile-summary.mjs DIR [TOP]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const dir = process.argv[2];
const top = Number(process.argv[3] ?? 12);

function area(fn, url) {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'program (native, incl. zlib/crypto)';
  if (/crc32C/.test(url)) return 'kafkajs CRC32C';
  if (/node_modules\/kafkajs/.test(url)) return 'kafkajs';
  if (/node_modules\/avsc/.test(url)) return 'avsc';
  if (/node_modules\/ioredis|redis-parser|denque/.test(url)) return 'ioredis';
  if (/packages\/transcript/.test(url)) return 'transcript parser';
  if (/packages\/(graph|detect|report)/.test(url)) return 'graph/detect/report';
  if (/packages\/schemas/.test(url)) return 'schemas';
  if (/zlib/.test(url) || /gzip|inflate|deflate/i.test(fn)) return 'zlib';
  if (/^node:|^internal\//.test(url) || url === '') return 'node internals';
  return 'dumpstream other';
}

function summarise(file) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = prof.timeDeltas;
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
  const areas = new Map();
  const fns = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    const { functionName, url, lineNumber } = n.callFrame;
    const a = area(functionName, url);
    if (a === 'idle') continue;
    total += us;
    areas.set(a, (areas.get(a) ?? 0) + us);
    const k = `${functionName || '(anon)'} ${url.replace(/.*\/(node_modules|packages|services)\//, '$1/')}:${lineNumber + 1}`;
    fns.set(k, (fns.get(k) ?? 0) + us);
  }
  return { total, areas, fns };
}

for (const sub of readdirSync(dir).sort()) {
  const d = path.join(dir, sub);
  if (!statSync(d).isDirectory()) continue;
  for (const f of readdirSync(d).filter((x) => x.endsWith('.cpuprofile'))) {
    const { total, areas, fns } = summarise(path.join(d, f));
    console.log(`## ${sub} — ${(total / 1e6).toFixed(2)} s busy`);
    console.log('  ' + [...areas].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${((100 * v) / total).toFixed(0)} %`).join(', '));
    for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  }
}
