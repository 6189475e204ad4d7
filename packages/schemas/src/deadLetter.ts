import { SchemaError } from './errors';

/**
 * A dead letter is not a schema of its own: it carries the original message's key and bytes
 * untouched, so that it can be replayed once the cause is fixed, with why and where it failed in
 * these headers (besides the original message's own headers).
 */
export const DEAD_LETTER_HEADERS = {
  /** A sentence a person can act on: `cannot decode Facts from 12 bytes: truncated buffer`. */
  reason: 'x-dumpstream-reason',
  /** The error's code (`DECODE_FAILED`, `ENCODE_INVALID`, …): what tooling branches on. */
  errorCode: 'x-dumpstream-error-code',
  sourceTopic: 'x-dumpstream-source-topic',
  sourcePartition: 'x-dumpstream-source-partition',
  /** Kafka offsets are decimal strings (they can pass 2^53). */
  sourceOffset: 'x-dumpstream-source-offset',
  /** The service that gave up: `parse`, `detect`, … */
  service: 'x-dumpstream-service',
  /** When it gave up, ms since the epoch, in decimal. */
  failedAt: 'x-dumpstream-failed-at',
} as const;

/** The topic that dead letters of every topic go to; `x-dumpstream-source-topic` says whence. */
export const DEAD_LETTER_TOPIC = 'dead-letters';

/** Why and where a message failed, as the dead-letter headers say it. */
export interface DeadLetterInfo {
  reason: string;
  errorCode: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  service: string;
  failedAt: number;
}

/** Kafka message headers as kafkajs gives and takes them. */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** The headers to put on a dead letter (merge them over the original message's headers). */
export function deadLetterHeaders(info: DeadLetterInfo): Record<string, string> {
  const h = DEAD_LETTER_HEADERS;
  return {
    [h.reason]: info.reason,
    [h.errorCode]: info.errorCode,
    [h.sourceTopic]: info.sourceTopic,
    [h.sourcePartition]: String(info.sourcePartition),
    [h.sourceOffset]: info.sourceOffset,
    [h.service]: info.service,
    [h.failedAt]: String(info.failedAt),
  };
}

/**
 * Reads why and where a dead letter failed from its headers. Throws SchemaError DECODE_FAILED
 * when a header is missing or a number is not one: the message is not a dead letter of ours.
 */
export function readDeadLetterHeaders(headers: MessageHeaders): DeadLetterInfo {
  const get = (name: string): string => {
    const v = headers[name];
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one === undefined) throw new SchemaError('DECODE_FAILED', `not a dead letter: no ${name} header`, { schema: 'DeadLetter' });
    return one.toString();
  };
  const num = (name: string): number => {
    const s = get(name);
    const n = Number(s);
    if (s.trim() === '' || !Number.isSafeInteger(n)) throw new SchemaError('DECODE_FAILED', `not a dead letter: ${name} is ${JSON.stringify(s)}, not an integer`, { schema: 'DeadLetter' });
    return n;
  };
  const h = DEAD_LETTER_HEADERS;
  return {
    reason: get(h.reason),
    errorCode: get(h.errorCode),
    sourceTopic: get(h.sourceTopic),
    sourcePartition: num(h.sourcePartition),
    sourceOffset: get(h.sourceOffset),
    service: get(h.service),
    failedAt: num(h.failedAt),
  };
}
