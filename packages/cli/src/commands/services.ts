import { startDetect } from '@dumpstream/detect-service';
import { startIngest } from '@dumpstream/ingest';
import { startParse } from '@dumpstream/parse';
import { createLog, isConfigError, loadConfig, stopOnSignals, ENVIRONMENT } from '@dumpstream/runtime';
import { EXIT, type Io } from './common';

export const SERVICE_USAGE = `usage: dumpstream ingest|parse|detect

Runs one service of the distributed pipeline until SIGTERM or SIGINT (graceful stop).
Configuration comes from the environment:

${Object.entries(ENVIRONMENT)
  .map(([k, v]) => `  ${k.padEnd(24)} ${v}`)
  .join('\n')}
`;

const NEEDS = { ingest: { kafka: true }, parse: { kafka: true }, detect: { kafka: true, redis: true } } as const;

/** `dumpstream ingest|parse|detect`: validates the environment, starts the service, waits for a signal. */
export async function serviceCommand(name: 'ingest' | 'parse' | 'detect', argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(SERVICE_USAGE);
    return EXIT.ok;
  }
  if (argv.length > 0) {
    io.stderr.write(`dumpstream ${name}: takes no arguments (configuration is in the environment)\n${SERVICE_USAGE}`);
    return EXIT.usage;
  }
  let config;
  try {
    // parse and detect have no other HTTP: their health and metrics get a port of their own.
    const env = name !== 'ingest' && !process.env.HEALTH_LISTEN ? { ...process.env, HEALTH_LISTEN: '0.0.0.0:9464' } : process.env;
    config = loadConfig(env, NEEDS[name]);
  } catch (e) {
    if (!isConfigError(e)) throw e;
    io.stderr.write(`dumpstream ${name}: ${e.message}\n`);
    return EXIT.usage;
  }
  const log = createLog(name, config.logLevel);
  // A consumer that stopped for good cannot heal itself: exit, and let the supervisor restart us.
  const onFatal = (e: Error) => {
    log.error('fatal: exiting so that the service is restarted', { error: e });
    process.exit(1);
  };
  let handle;
  try {
    handle = name === 'ingest' ? await startIngest(config, { log }) : name === 'parse' ? await startParse(config, { log, onFatal }) : await startDetect(config, { log, onFatal });
  } catch (e) {
    // Kafka or Redis refused us (a wrong password, say), a port is taken…: say why and exit. The
    // clients it opened would otherwise keep the process alive, started in name only.
    log.error('cannot start: exiting so that the service is restarted', { error: e });
    process.exit(1);
  }
  // Resolves never: the signal handler exits the process after the graceful stop.
  await new Promise<void>(() => stopOnSignals(() => handle.stop(), log));
  return EXIT.ok;
}
