import { analyzeCommand, ANALYZE_USAGE } from './commands/analyze';
import { EXIT, isUsageError, type Io } from './commands/common';

// The service, submit and watch commands load Kafka, Redis and HTTP clients: required only when
// used, so that `dumpstream analyze` starts fast.
type Commands = typeof import('./commands/services') & typeof import('./commands/submit') & typeof import('./commands/watch') & typeof import('./commands/lookup');
const lazy = <K extends keyof Commands>(file: string, name: K): Commands[K] => (require(file) as Commands)[name];

export { EXIT };
export type { Io };

export const USAGE = `usage: dumpstream COMMAND [ARGS]

  analyze [--format FORMAT] FILE...      analyse transcripts here, with no servers (text,
                                         json, or a picture: html, svg)
  submit FILE... --url URL               send transcripts to an ingest service
  watch reports|alerts                   print the pipeline's reports or alerts as NDJSON
  report DUMPID [--format text|json|html]
                                         print a report the pipeline kept (look-up API)
  storms [--all] [--format text|json]    the faults storming across the fleet now
  ingest | parse | detect                run a service of the distributed pipeline

dumpstream COMMAND --help says more.

${ANALYZE_USAGE}`;

/** Runs the command line; resolves to the exit status. Never throws for a user's mistake. */
export async function run(argv: string[], io: Io = process): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    (cmd === undefined ? io.stderr : io.stdout).write(USAGE);
    return cmd === undefined ? EXIT.usage : EXIT.ok;
  }
  try {
    switch (cmd) {
      case 'analyze':
        return await analyzeCommand(rest, io);
      case 'submit':
        return await lazy('./commands/submit', 'submitCommand')(rest, io);
      case 'watch':
        return await lazy('./commands/watch', 'watchCommand')(rest, io);
      case 'report':
        return await lazy('./commands/lookup', 'reportCommand')(rest, io);
      case 'storms':
        return await lazy('./commands/lookup', 'stormsCommand')(rest, io);
      case 'ingest':
      case 'parse':
      case 'detect':
        return await lazy('./commands/services', 'serviceCommand')(cmd, rest, io);
      default:
        io.stderr.write(`dumpstream: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (e) {
    if (!isUsageError(e)) throw e;
    io.stderr.write(`dumpstream ${cmd}: ${e.message}\n(dumpstream ${cmd} --help for usage)\n`);
    return EXIT.usage;
  }
}
