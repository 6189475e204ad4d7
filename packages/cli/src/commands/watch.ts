import { randomUUID } from 'node:crypto';
import { createKafka, topicsFor } from '@dumpstream/kafka';
import { createLog, isConfigError, loadConfig } from '@dumpstream/runtime';
import { renderText } from '@dumpstream/report';
import { decodeAlert, decodeReport, type Alert } from '@dumpstream/schemas';
import { EXIT, UsageError, type Io } from './common';

export const WATCH_USAGE = `usage: dumpstream watch reports|alerts [--format text|json] [--from-beginning] [--count N] [--timeout SECONDS]

Prints the reports or alerts of the pipeline as they are published. Reads committed messages
only; never commits offsets.

  --format text      reports as analyze prints them, an alert a line (default on a terminal)
  --format json      one JSON object per line: a report is the same JSON as analyze --format json
                     (default when the output is not a terminal)
  --from-beginning   print what the topic already holds first
  --count N          exit after N messages
  --timeout SECONDS  stop waiting after this long; with --count, fewer than N is exit status 1
                     (an upload answered "duplicate": true gets no report of its own)
`;

/** `dumpstream watch reports|alerts`: decoded messages, as text or NDJSON, on stdout. */
export async function watchCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(WATCH_USAGE);
    return EXIT.ok;
  }
  const what = argv[0];
  if (what !== 'reports' && what !== 'alerts') throw new UsageError(`watch what? reports or alerts, not ${what === undefined ? 'nothing' : JSON.stringify(what)}`);
  let fromBeginning = false;
  let count = Infinity;
  let timeoutS: number | null = null;
  // Text for a person at a terminal, NDJSON for a pipe or a file (as before --format existed).
  let format: 'text' | 'json' = (io.stdout as { isTTY?: boolean }).isTTY ? 'text' : 'json';
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--from-beginning') fromBeginning = true;
    else if (argv[i] === '--count') {
      count = Number(argv[++i]);
      if (!Number.isInteger(count) || count < 1) throw new UsageError('--count needs a whole number ≥ 1');
    } else if (argv[i] === '--timeout') {
      timeoutS = Number(argv[++i]);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError('--timeout needs a number of seconds > 0');
    } else if (argv[i] === '--format') {
      const v = argv[++i];
      if (v !== 'text' && v !== 'json') throw new UsageError(`--format must be text or json, not ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
      format = v;
    } else throw new UsageError(`unknown option ${argv[i]}`);
  }
  let config;
  try {
    config = loadConfig(io.env ?? process.env, { kafka: true });
  } catch (e) {
    if (!isConfigError(e)) throw e;
    io.stderr.write(`dumpstream watch: ${e.message}\n`);
    return EXIT.usage;
  }
  const log = createLog('watch', config.logLevel === 'info' ? 'warn' : config.logLevel);
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-watch` }, log);
  const topic = topicsFor(config.topicPrefix)[what].name;
  const consumer = kafka.consumer({ groupId: `${config.topicPrefix}watch-${randomUUID()}`, readUncommitted: false });
  const render = (value: Buffer): string => {
    if (what === 'reports') {
      const report = decodeReport(value);
      return format === 'json' ? JSON.stringify(report) : renderText(report);
    }
    const alert = decodeAlert(value);
    return format === 'json' ? JSON.stringify(alert) : alertLine(alert);
  };
  let seen = 0;
  let timedOut = false;
  const started = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning });
  await new Promise<void>((resolve, reject) => {
    const timer = timeoutS === null ? null : setTimeout(() => {
      timedOut = true;
      done();
    }, timeoutS * 1000);
    const done = () => {
      if (timer) clearTimeout(timer);
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
            io.stdout.write(`${render(message.value)}\n`);
          } catch (e) {
            io.stderr.write(`dumpstream watch: ${topic}[${partition}] offset ${message.offset}: ${(e as Error).message}\n`);
          }
          if (++seen >= count) done();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  if (timedOut && seen < count) {
    const s = Math.round((Date.now() - started) / 1000);
    io.stderr.write(`dumpstream watch: ${seen} of ${count} ${what} in ${s} s; stopped waiting (--timeout ${timeoutS}). An upload answered "duplicate": true gets no report of its own.\n`);
    return EXIT.inputFailed;
  }
  return EXIT.ok;
}

/** An alert on one line: severity, where it came from, what it found. */
export function alertLine(a: Alert): string {
  const roots = [...new Set(a.rootImages.map((r) => r ?? 'unknown'))].join(', ');
  const when = new Date(a.createdAt).toISOString();
  return `${when} ${a.severity.toUpperCase()} ${a.host ?? '-'} ${a.source}: ${a.summary} (${a.werFaultProcesses} WerFault.exe, ${a.chainCount} chain${a.chainCount === 1 ? '' : 's'}, deepest ${a.deepestChain}; root ${roots || 'unknown'}) dumpId ${a.dumpId}`;
}
