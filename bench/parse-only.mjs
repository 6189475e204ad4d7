#!/usr/bin/env node
// Reference figure for the parser alone, run by bench/run.mjs as a whole process like the others:
// stream FILE in 1 MiB chunks through the Segmenter (bytes → lines → segments with their debugger
// context → facts: every process, thread, wait, frame), counting facts; no graph, detect or
// report. Prints counts and the in-process parse time on stderr as JSON.
//
//   node bench/parse-only.mjs FILE
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Segmenter } = require(path.join(root, 'packages/transcript/dist/index.js'));

const t0 = performance.now();
let frames = 0;
let processes = 0;
const seg = new Segmenter((_s, f) => {
  processes += f.processes.length;
  for (const st of f.stacks) frames += st.frameCount;
});
for await (const chunk of createReadStream(process.argv[2], { highWaterMark: 1 << 20 })) seg.push(chunk);
const sum = seg.end();
process.stderr.write(JSON.stringify({ segments: sum.segments, processFacts: processes, frames, parseSeconds: (performance.now() - t0) / 1000 }) + '\n');
