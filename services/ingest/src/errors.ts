/** Why an upload was refused or failed: one code per cause, each with its HTTP status. */
export const INGEST_ERROR_CODES = [
  'UNAUTHORIZED',
  'TOO_MANY_UPLOADS',
  'TOO_LARGE',
  'SEGMENT_TOO_LARGE',
  'NOT_TRANSCRIPT',
  'EMPTY',
  'BAD_METADATA',
  'BAD_ENCODING',
  'UNSUPPORTED_ENCODING',
  'UNREADABLE',
  'CLIENT_ABORTED',
  'TIMEOUT',
  'KAFKA',
  'STOPPING',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'INTERNAL',
] as const;
/** One of INGEST_ERROR_CODES: what clients and tooling branch on. */
export type IngestErrorCode = (typeof INGEST_ERROR_CODES)[number];

const STATUS: Record<IngestErrorCode, number> = {
  UNAUTHORIZED: 401,
  TOO_MANY_UPLOADS: 429,
  TOO_LARGE: 413,
  SEGMENT_TOO_LARGE: 413,
  NOT_TRANSCRIPT: 415,
  EMPTY: 400,
  BAD_METADATA: 400,
  BAD_ENCODING: 400,
  UNSUPPORTED_ENCODING: 415,
  UNREADABLE: 400,
  CLIENT_ABORTED: 400,
  TIMEOUT: 408,
  KAFKA: 503,
  STOPPING: 503,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  INTERNAL: 500,
};

/** Codes worth trying again later: the input was fine, the service was not. */
const RETRIABLE = new Set<IngestErrorCode>(['TOO_MANY_UPLOADS', 'KAFKA', 'STOPPING', 'TIMEOUT', 'INTERNAL']);

const BRAND = Symbol.for('dumpstream.IngestError');

/**
 * An upload that ingest refused or could not finish. `message` is meant for the uploader as is
 * (it never holds a stack trace or a secret); `status` is the HTTP answer; `retriable` says
 * whether the same input may succeed later.
 */
export class IngestError extends Error {
  readonly [BRAND] = true;
  readonly status: number;
  readonly retriable: boolean;

  constructor(
    readonly code: IngestErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IngestError';
    this.status = STATUS[code];
    this.retriable = RETRIABLE.has(code);
  }
}

/** Brand check that survives duplicated modules and jest realms. */
export function isIngestError(e: unknown): e is IngestError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Any failure as an IngestError: Kafka errors become KAFKA, anything unknown INTERNAL. Their
 * messages say no more than that (broker addresses and internals stay in `cause`, for the log).
 */
export function toIngestError(e: unknown): IngestError {
  if (isIngestError(e)) return e;
  const name = typeof e === 'object' && e !== null ? String((e as { name?: unknown }).name ?? '') : '';
  const type = name.startsWith('KafkaJS') ? kafkaErrorType(e) : undefined;
  if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
    return new IngestError('SEGMENT_TOO_LARGE', 'a segment of this transcript is larger than Kafka accepts: very long lines with no command, PROCESS or THREAD line between them', { cause: e });
  }
  if (name.startsWith('KafkaJS')) return new IngestError('KAFKA', 'the message queue is not accepting transcripts: try again later', { cause: e });
  return new IngestError('INTERNAL', 'internal error', { cause: e });
}

/** The Kafka protocol error type (`MESSAGE_TOO_LARGE`, …) of a kafkajs error or of the error it wraps. */
function kafkaErrorType(e: unknown): string | undefined {
  for (let x = e as { type?: unknown; cause?: unknown } | undefined, depth = 0; x && depth < 4; x = x.cause as typeof x, depth++) {
    if (typeof x.type === 'string') return x.type;
  }
  return undefined;
}

/** What went wrong in full, for logs and manifests (never for answers): for KAFKA and INTERNAL, the cause's message too. */
export function detailOf(err: IngestError): string {
  const cause = err.cause as { message?: unknown } | undefined;
  const hidden = err.code === 'KAFKA' || err.code === 'INTERNAL';
  return hidden && cause && typeof cause.message === 'string' ? `${err.message} (${cause.message})` : err.message;
}
