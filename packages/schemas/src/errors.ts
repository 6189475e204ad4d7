/** Error codes of @dumpstream/schemas; callers branch on `code`, never on the message. */
export const SCHEMA_ERROR_CODES = [
  /** A value does not fit its schema (a missing required field, a fraction where a long goes, …). */
  'ENCODE_INVALID',
  /** Bytes that are not a message of the schema: truncated, trailing data, bad union index, wrong report schema. */
  'DECODE_FAILED',
] as const;

/** One of {@link SCHEMA_ERROR_CODES}. */
export type SchemaErrorCode = (typeof SCHEMA_ERROR_CODES)[number];

const BRAND = Symbol.for('dumpstream.SchemaError');

/**
 * Raised when a message cannot be encoded or decoded. Never retriable: the same value or bytes
 * fail the same way every time, so a consumer dead-letters the message with this `code`.
 */
export class SchemaError extends Error {
  readonly code: SchemaErrorCode;
  readonly retriable = false;
  /** The schema (`Segment`, `Facts`, …) and, for ENCODE_INVALID, the paths of the offending fields. */
  readonly context: Readonly<{ schema: string; paths?: string[] }>;

  constructor(code: SchemaErrorCode, message: string, context: { schema: string; paths?: string[] }, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchemaError';
    this.code = code;
    this.context = context;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for a {@link SchemaError} from any copy of this package (no `instanceof`). */
export function isSchemaError(e: unknown): e is SchemaError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
