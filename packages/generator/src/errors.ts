/** Error codes the generator can raise; callers branch on `code`, never on the message. */
export const GENERATOR_ERROR_CODES = ['INVALID_SPEC', 'INVALID_ARGUMENT'] as const;

/** One of {@link GENERATOR_ERROR_CODES}. */
export type GeneratorErrorCode = (typeof GENERATOR_ERROR_CODES)[number];

const BRAND = Symbol.for('dumpstream.GeneratorError');

/**
 * Raised for a spec or CLI argument that cannot describe a dump (depth 0, unknown OS, a chain
 * with no usable evidence, …). Never retriable: the same input fails the same way.
 */
export class GeneratorError extends Error {
  readonly code: GeneratorErrorCode;
  readonly retriable = false;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: GeneratorErrorCode, message: string, context: Record<string, unknown> = {}) {
    super(message);
    this.name = 'GeneratorError';
    this.code = code;
    this.context = context;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for a {@link GeneratorError} from any copy of this package (no `instanceof`). */
export function isGeneratorError(e: unknown): e is GeneratorError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
