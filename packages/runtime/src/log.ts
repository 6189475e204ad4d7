import type { Log } from '@dumpstream/kafka';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

// Field names whose values are never written, whatever their shape.
const SECRET_FIELD = /pass(word)?|secret|token|authorization|credential|sasl/i;
// `redis://user:password@host` → `redis://user:***@host`
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]+@/gi;

/** Removes secrets from a value before it is logged: secret-named fields and URL passwords. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(URL_PASSWORD, '$1***@');
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '***' : redact(v, depth + 1);
  return out;
}

/** JSON lines on stderr, one per event, secrets redacted. */
export function createLog(service: string, level: LogLevel = 'info', out: NodeJS.WritableStream = process.stderr): Log {
  const min = ORDER[level];
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return;
    const rec = { time: new Date().toISOString(), level: lvl, service, msg: redact(msg), ...(fields ? (redact(fields) as object) : {}) };
    out.write(`${JSON.stringify(rec)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** A logger that drops everything (tests). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
