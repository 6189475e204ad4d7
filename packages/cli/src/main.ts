#!/usr/bin/env node
import { run } from './cli';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // A bug, not a user's mistake: say so in one line, with the stack only on request.
    process.stderr.write(`dumpstream: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.DUMPSTREAM_DEBUG) process.stderr.write(`${e instanceof Error ? e.stack : ''}\n`);
    process.exitCode = 70;
  },
);
