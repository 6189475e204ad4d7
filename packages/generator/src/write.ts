import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KnownAnswer } from './answer';
import type { DumpSpec } from './spec';
import { generateTranscript, type GenerateOptions } from './transcript';

/** Where a transcript was written, and what it holds. */
export interface WrittenTranscript {
  path: string;
  answerPath: string | null;
  bytes: number;
  answer: KnownAnswer;
}

/** Options of {@link writeTranscript}. */
export interface WriteOptions extends GenerateOptions {
  /** Write `<path>.answer.json` beside the transcript (default true). */
  answer?: boolean;
}

/**
 * Streams a generated transcript to `path` (with backpressure, never holding the text) and writes
 * the known answer to `<path>.answer.json`.
 * @throws GeneratorError for a bad spec; the file system's error when a file cannot be written.
 */
export async function writeTranscript(spec: DumpSpec, path: string, options: WriteOptions = {}): Promise<WrittenTranscript> {
  const { chunks, answer } = generateTranscript(spec, options);
  let bytes = 0;
  const counted = (function* (): Generator<string> {
    for (const c of chunks) {
      bytes += c.length;
      yield c;
    }
  })();
  await pipeline(Readable.from(counted), createWriteStream(path));
  let answerPath: string | null = null;
  if (options.answer !== false) {
    answerPath = `${path}.answer.json`;
    await writeFile(answerPath, JSON.stringify({ ...answer, bytes }, null, 2) + '\n');
  }
  return { path, answerPath, bytes, answer };
}
