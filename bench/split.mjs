#!/usr/bin/env node
// Baseline "bare Node read + split" of bench/run.mjs: stream FILE in 1 MiB chunks, decode UTF-8
// (createReadStream's decoder, so a character split across chunks is kept whole), split into
// lines and count them. Nothing is kept. Prints the line count on stderr.
//
//   node bench/split.mjs FILE
import { createReadStream } from 'node:fs';

let lines = 0;
let carry = '';
for await (const chunk of createReadStream(process.argv[2], { highWaterMark: 1 << 20, encoding: 'utf8' })) {
  const parts = (carry + chunk).split('\n');
  carry = parts.pop();
  lines += parts.length;
}
if (carry) lines++;
process.stderr.write(`${lines} lines\n`);
