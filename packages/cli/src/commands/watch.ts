import { randomUUID } from 'node:crypto';
import { createKafka, topicsFor } from '@dumpstream/kafka';
import { createLog, isConfigError, loadConfig } from '@dumpstream/runtime';
import { decodeAlert, decodeReport } from '@dumpstream/schemas';
import { EXIT, UsageError, type Io } from './common';

export const WATCH_USAGE = `usage: dumpstream watch reports|alerts [--from-beginning] [--count N]

Prints the reports (the same JSON as analyze --format json) or alerts of the pipeline as they
are published, one JSON object per line. Reads committed messages only; never commits offsets.

  --from-beginning   print what the topic already holds first
  --count N          exit after N messages
`;

/** `dumpstream watch reports|alerts`: decoded messages as NDJSON on stdout. */
export async function watchCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(WATCH_USAGE);
    return EXIT.ok;
  }
  const what = argv[0];
  if (what !== 'reports' && what !== 'alerts') throw new UsageError(`watch what? reports or alerts, not ${what === undefined ? 'nothing' : JSON.stringify(what)}`);
  let fromBeginning = false;
  let count = Infinity;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--from-beginning') fromBeginning = true;
    else if (argv[i] === '--count') {
      count = Number(argv[++i]);
      if (!Number.isInteger(count) || count < 1) throw new UsageError('--count needs a whole number ≥ 1');
    } else throw new UsageError(`unknown option ${argv[i]}`);
  }
  let config;
  try {
    config = loadConfig(process.env, { kafka: true });
  } catch (e) {
    if (!isConfigError(e)) throw e;
    io.stderr.write(`dumpstream watch: ${e.message}\n`);
    return EXIT.usage;
  }
  const log = createLog('watch', config.logLevel === 'info' ? 'warn' : config.logLevel);
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-watch` }, log);
  const topic = topicsFor(config.topicPrefix)[what].name;
  const consumer = kafka.consumer({ groupId: `${config.topicPrefix}watch-${randomUUID()}`, readUncommitted: false });
  let seen = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning });
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ message, partition }) => {
          if (seen >= count || message.value === null) return;
          try {
            const decoded = what === 'reports' ? decodeReport(message.value) : decodeAlert(message.value);
            io.stdout.write(`${JSON.stringify(decoded)}\n`);
          } catch (e) {
            io.stderr.write(`dumpstream watch: ${topic}[${partition}] offset ${message.offset}: ${(e as Error).message}\n`);
          }
          if (++seen >= count) done();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return EXIT.ok;
}
