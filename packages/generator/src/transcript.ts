import { answerOf, type KnownAnswer } from './answer';
import { GeneratorError } from './errors';
import { buildPlan } from './plan';
import { Renderer } from './render';
import { ChunkSink } from './sink';
import { type DumpSpec, normalizeSpec } from './spec';

/** Default chunk size: 64 KiB. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

/** Options of {@link generateTranscript} that do not change the text, only how it is handed out. */
export interface GenerateOptions {
  /** Every chunk but the last has exactly this many characters (= bytes, the text is ASCII). Default 64 KiB. */
  chunkSize?: number;
}

/** A transcript being generated: lazy text and its known answer. */
export interface GeneratedTranscript {
  /**
   * The text, produced lazily as it is iterated; iterate it once (each iteration starts the
   * session anew and yields the same bytes).
   */
  chunks: Iterable<string>;
  /** What a correct analysis must find; computed from the plan, without producing text. */
  answer: KnownAnswer;
}

/**
 * Generates a synthetic debugger transcript for a spec. Deterministic: the same spec gives the same
 * bytes. Memory stays at about one chunk plus the plan (O(processes)), whatever the size.
 * @throws GeneratorError `INVALID_SPEC` for a spec that cannot describe a dump;
 *   `INVALID_ARGUMENT` for a chunk size below 1 KiB.
 */
export function generateTranscript(spec: DumpSpec, options: GenerateOptions = {}): GeneratedTranscript {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1024) {
    throw new GeneratorError('INVALID_ARGUMENT', `chunkSize must be an integer ≥ 1024, got ${chunkSize}`, { chunkSize });
  }
  const plan = buildPlan(normalizeSpec(spec));
  const answer = answerOf(plan);
  const chunks: Iterable<string> = {
    *[Symbol.iterator](): Generator<string> {
      const sink = new ChunkSink(chunkSize, '\n');
      const renderer = new Renderer(plan, sink);
      for (const _ of renderer.session()) {
        if (sink.ready) yield* sink.take(false);
      }
      yield* sink.take(true);
    },
  };
  return { chunks, answer };
}
