// The bench inputs: generated transcripts, deterministic (a spec and a seed), written once per size
// into the cache (~/.cache/dumpstream/bench, or $DUMPSTREAM_CACHE/bench) under a versioned name.
// Bump a version when its spec or the generator's output for it changes, so an old file is not
// measured under a new name.
import { existsSync, mkdirSync, renameSync, rmSync, statSync, statfsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { writeTranscript } = require(path.join(root, 'packages/generator/dist/index.js'));

export const cacheDir = path.join(process.env.DUMPSTREAM_CACHE ?? path.join(os.homedir(), '.cache', 'dumpstream'), 'bench');

/**
 * Frame-heavy: an ordinary kd session (Windows 10 x64) with about 1 ordinary process per 9 KB, 4–8
 * threads each, 10–20 frames a stack, three WerFault chains, 20 decoys, WOW64, 5 % noise, padded
 * to size. At 200 MB: 22 k processes, 1.6 M frames. The spec bench/run.mjs used before issue 9
 * (same bytes, same file name).
 */
export function frameHeavySpec(mb) {
  return {
    seed: 42,
    os: 'win10',
    arch: 'x64',
    debugger: 'kd',
    processes: Math.max(100, Math.round((mb * 1e6) / 9000)),
    threadsPerProcess: [4, 8],
    framesPerStack: [10, 20],
    chains: [{ depth: 6, branching: 3, evidence: 'mixed' }, { depth: 3 }, { depth: 12, rootStack: 'paged-out' }],
    werfaultDecoys: 20,
    wow64: true,
    noise: 0.05,
    padToBytes: mb * 1e6,
  };
}

/**
 * WER storm process listing: 3,000 processes in `!process 0 0` form (100 ordinary, 500 original
 * faults, 2,400 WerFault.exe in 300 chains of depth 4 and 200 of depth 6, linked by ParentCid),
 * the listing printed again and again up to the size (generator style `listing`).
 */
export function stormSpec(mb) {
  return {
    seed: 9,
    os: 'win10',
    arch: 'x64',
    debugger: 'kd',
    style: 'listing',
    processes: 100,
    chains: [
      ...Array.from({ length: 300 }, () => ({ depth: 4, evidence: ['parentage'], rootStack: 'paged-out' })),
      ...Array.from({ length: 200 }, () => ({ depth: 6, evidence: ['parentage'], rootStack: 'paged-out' })),
    ],
    padToBytes: mb * 1e6,
  };
}

export function frameHeavyInput(mb) {
  return { key: 'frame-heavy', title: `frame-heavy kd session, BENCH_MB=${mb}`, file: path.join(cacheDir, `transcript-${mb}mb-v1.txt`), spec: frameHeavySpec(mb), mb };
}

/**
 * The memory test's input: the frame-heavy shape (same threads, frames, chains, noise), with as
 * many processes as fit in `mb` MB (about 12.5 KB each, so 160 k at 2,000 MB; frameHeavySpec's
 * one per 9 KB overshoots its size by 40 %: 277 MB at BENCH_MB=200).
 */
export function bigInput(mb) {
  const spec = { ...frameHeavySpec(mb), processes: Math.max(100, Math.round((mb * 1e6) / 12500)) };
  return { key: 'big', title: `frame-heavy kd session, ${mb} MB`, file: path.join(cacheDir, `frame-heavy-${mb}mb-v1.txt`), spec, mb };
}

export function stormInput(mb) {
  return { key: 'storm', title: `WER storm process listing (!process 0 0), ${mb} MB`, file: path.join(cacheDir, `storm-listing-${mb}mb-v1.txt`), spec: stormSpec(mb), mb };
}

/** Free bytes on the file system of the cache. */
export function freeBytes() {
  mkdirSync(cacheDir, { recursive: true });
  const s = statfsSync(cacheDir);
  return s.bavail * s.bsize;
}

/**
 * Writes the input unless the cache has it (complete: files are written under a temporary name
 * and renamed). Returns { bytes, generatedSeconds } (null seconds when it was cached).
 */
export async function ensureInput(input, log = (s) => process.stderr.write(s + '\n')) {
  mkdirSync(cacheDir, { recursive: true });
  if (existsSync(input.file)) return { bytes: statSync(input.file).size, generatedSeconds: null };
  const need = input.mb * 1e6 * 1.1;
  if (freeBytes() < need + 1e9) throw new Error(`not enough disk for ${input.file}: ${(freeBytes() / 1e9).toFixed(1)} GB free, need ${(need / 1e9).toFixed(1)} GB + 1 GB`);
  log(`generating ${input.title} into ${input.file} …`);
  const tmp = `${input.file}.partial`;
  rmSync(tmp, { force: true });
  const t0 = performance.now();
  const w = await writeTranscript(input.spec, tmp, { chunkSize: 1 << 20 });
  renameSync(tmp, input.file);
  renameSync(`${tmp}.answer.json`, `${input.file}.answer.json`);
  const generatedSeconds = (performance.now() - t0) / 1000;
  log(`  ${(w.bytes / 1e6).toFixed(0)} MB in ${generatedSeconds.toFixed(1)} s`);
  return { bytes: w.bytes, generatedSeconds };
}
