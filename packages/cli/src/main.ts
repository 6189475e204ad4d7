#!/usr/bin/env node
import { run } from './cli';

// `dumpstream analyze big.txt | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

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
