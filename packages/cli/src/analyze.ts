import { createHash } from 'node:crypto';
import { detectErrorReportingFault } from '@dumpstream/detect';
import { DumpGraph } from '@dumpstream/graph';
import { buildReport, type Report, type ReportInput } from '@dumpstream/report';
import { Segmenter, sniffTranscript, type SegmenterOptions } from '@dumpstream/transcript';
import { EncodedFacts } from './heldFacts';
import { StackSpill } from './spill';

/** An input that cannot be analysed at all, with the reason a user should read. */
export class InputError extends Error {
  readonly code = 'INPUT_REJECTED';
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Brand check that survives duplicated modules and jest realms. */
export function isInputError(e: unknown): e is InputError {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'INPUT_REJECTED';
}

export interface AnalyzeOptions {
  segmenter?: SegmenterOptions;
  /** Facts a dump keeps before the rest is left out with a warning (DEFAULT_MAX_FACTS). */
  maxFacts?: number;
  /**
   * Unparsed lines kept with their text (default MAX_UNPARSED_SAMPLE, the report's sample);
   * `analyze --unparsed` raises it to list them all.
   */
  keepUnparsed?: number;
  /** Called as bytes are consumed, for progress bars. */
  onProgress?: (bytes: number) => void;
  /**
   * Keep stacks' text in a temporary file past a memory budget (StackSpill), so that memory holds
   * the graph, not the frames; the caller closes it when the report is written.
   */
  spill?: boolean;
}

/** A dump read whole: what its report is built from, and the spill file to close once it is written. */
export interface AnalyzedDump {
  input: ReportInput;
  /** Closes the spill file, if any: the input's frames cannot be read after it. */
  close(): void;
}

/**
 * The embedded pipeline: segment → parse → merge → detect → report, in one process, streaming.
 * Throws InputError when the input is empty, binary, or holds nothing a debugger prints.
 */
export async function analyzeTranscript(source: string, input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: AnalyzeOptions = {}): Promise<Report> {
  const dump = await analyzeDump(source, input, options);
  try {
    return buildReport(dump.input);
  } finally {
    dump.close();
  }
}

/**
 * The embedded pipeline up to the report's input: the caller renders it (with buildReport, or a
 * streaming writer that builds frames as it writes them) and then closes it.
 * Throws InputError as analyzeTranscript does.
 */
export async function analyzeDump(source: string, input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: AnalyzeOptions = {}): Promise<AnalyzedDump> {
  const spill = options.spill ? new StackSpill() : null;
  try {
    return await readDump(source, input, options, spill);
  } catch (e) {
    spill?.close();
    throw e;
  }
}

/**
 * Facts a dump analysed with a spill keeps as objects before the rest wait encoded in its file:
 * fewer than EncodedFacts' default, as everything past them costs memory only as bytes on disk.
 */
const HELD_AS_OBJECTS = 10_000;

async function readDump(source: string, input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: AnalyzeOptions, spill: StackSpill | null): Promise<AnalyzedDump> {
  const hash = createHash('sha256');
  // With a spill, memory is meant to hold the graph: large dumps' facts wait encoded in its file.
  const keep = options.keepUnparsed !== undefined ? { keepUnparsed: options.keepUnparsed } : {};
  const graph = new DumpGraph({ maxFacts: options.maxFacts, ...keep, ...(spill ? { stackText: spill, heldFacts: new EncodedFacts(HELD_AS_OBJECTS, spill) } : {}) });
  // The graph never reads a process block's detail lines: the parser need not keep them.
  const segmenter = new Segmenter((_segment, facts) => graph.merge(facts), { keepDetails: false, ...options.segmenter, ...keep });
  let sniffed = false;
  for await (const raw of input) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    if (!sniffed && chunk.length > 0) {
      const s = sniffTranscript(chunk);
      if (!s.ok) throw new InputError(s.reason);
      sniffed = true;
    }
    hash.update(chunk);
    segmenter.push(chunk);
    options.onProgress?.(segmenter.bytesRead);
  }
  if (!sniffed) throw new InputError('empty input');
  segmenter.end();
  const dump = graph.resolve({ release: true });
  const st = dump.stats;
  if (graph.cutAt === null && st.processes === 0 && st.threads === 0 && st.frames === 0 && Object.keys(dump.system).length === 0) {
    throw new InputError(`not a debugger transcript: no prompt, process, thread or stack in ${st.lines} line${st.lines === 1 ? '' : 's'}`);
  }
  const finding = detectErrorReportingFault(dump);
  return {
    input: { source, dumpId: hash.digest('hex'), bytes: segmenter.bytesRead, dump, findings: finding ? [finding] : [] },
    close: () => spill?.close(),
  };
}
