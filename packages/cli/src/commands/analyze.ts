import { once } from 'node:events';
import { closeSync, openSync, promises as fs, readSync } from 'node:fs';
import { DEFAULT_MAX_FACTS } from '@dumpstream/graph';
import { buildReport, REPORT_UNPARSED_SAMPLE, htmlPage, renderHtmlFailure, renderHtmlSection, renderText, reportInputJsonBytes, svgBlock, svgDocument } from '@dumpstream/report';
import { analyzeDump, InputError, isInputError } from '../analyze';
import { ProgressBar } from '../progress';
import { EXIT, UsageError, type Io } from './common';

/** Lines `--unparsed` lists per input: bounds memory on a transcript that is mostly not understood. */
export const UNPARSED_LIST_MAX = 100_000;

export const ANALYZE_USAGE = `usage: dumpstream analyze [--format text|json|html|svg] [--max-facts N] [--unparsed] FILE... (- for standard input)

Analyses crash-dump debugger transcripts (kd, cdb, WinDbg) in this process, with no servers, and
reports WerFault.exe recursion storms (Error Reporting Fault).

  --format text   a summary per dump with the WerFault.exe chains drawn as trees (default)
  --format json   one JSON object per input, one per line (schema dumpstream.report/v1)
  --format html   one self-contained HTML page (no script, nothing fetched) drawing each dump's
                  WerFault.exe chains as trees: original faults, reporters, evidence, exception
                  stacks; a section per input, written when the last input is done
  --format svg    the same pictures as one standalone SVG document, the inputs one under another
  --unparsed      instead of the report, list the lines not understood: line number and text,
                  the first ${thousands(UNPARSED_LIST_MAX)} of each input (the report counts them all and its
                  JSON holds the first ${REPORT_UNPARSED_SAMPLE})
  --max-facts N   processes, threads, stacks and command lines (and frames, sixteen to a fact) a
                  dump keeps before the rest of its transcript is left out with a warning
                  (default ${DEFAULT_MAX_FACTS}, or DUMP_MAX_FACTS); bounds memory

Exit status: 0 every input analysed; 1 an input could not be analysed; 2 usage error.
`;

const FORMATS = ['text', 'json', 'html', 'svg'] as const;
type Format = (typeof FORMATS)[number];

interface AnalyzeArgs {
  unparsed: boolean;
  format: Format;
  maxFacts: number;
  files: string[];
}

function parseMaxFacts(v: string | undefined, from: string): number {
  if (v === undefined || !/^[1-9][0-9_,]{0,12}$/.test(v.trim())) throw new UsageError(`${from} must be a whole number of facts above 0, not ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  return Number(v.trim().replace(/[_,]/g, ''));
}

function parseAnalyzeArgs(argv: string[], env: NodeJS.ProcessEnv): AnalyzeArgs {
  let format: Format = 'text';
  let unparsed = false;
  let maxFacts = env.DUMP_MAX_FACTS?.trim() ? parseMaxFacts(env.DUMP_MAX_FACTS, 'DUMP_MAX_FACTS') : DEFAULT_MAX_FACTS;
  const files: string[] = [];
  let endOfOptions = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!endOfOptions && a === '--') {
      endOfOptions = true;
    } else if (!endOfOptions && (a === '--format' || a === '-f' || a.startsWith('--format='))) {
      const v = a.startsWith('--format=') ? a.slice(9) : argv[++i];
      if (!(FORMATS as readonly string[]).includes(v)) {
        throw new UsageError(v === undefined || v.startsWith('-') ? '--format needs a value: text, json, html or svg' : `--format must be text, json, html or svg, not ${JSON.stringify(v)}`);
      }
      format = v as Format;
    } else if (!endOfOptions && (a === '--max-facts' || a.startsWith('--max-facts='))) {
      maxFacts = parseMaxFacts(a.startsWith('--max-facts=') ? a.slice(12) : argv[++i], '--max-facts');
    } else if (!endOfOptions && a === '--unparsed') {
      unparsed = true;
    } else if (!endOfOptions && a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option ${a}`);
    } else {
      files.push(a);
    }
  }
  if (files.length === 0) throw new UsageError('no input: name a transcript file, or - for standard input');
  return { format, maxFacts, files, unparsed };
}

/** `dumpstream analyze`: the embedded pipeline over each input in turn. */
export async function analyzeCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(ANALYZE_USAGE);
    return EXIT.ok;
  }
  const args = parseAnalyzeArgs(argv, io.env ?? process.env);
  let status: number = EXIT.ok;
  // Pictures are one document for all inputs: sections are kept (not reports) and written at the end.
  const sections: string[] = [];
  const blocks: ReturnType<typeof svgBlock>[] = [];
  for (const file of args.files) {
    const name = file === '-' ? '(standard input)' : file;
    try {
      const { stream, size } = await open(file, io.stdin);
      const bar = ProgressBar.forStream(io.stderr, name, size);
      const dump = await analyzeDump(name, stream, { maxFacts: args.maxFacts, onProgress: (b) => bar?.update(b), spill: true, ...(args.unparsed ? { keepUnparsed: UNPARSED_LIST_MAX } : {}) });
      bar?.done();
      try {
        if (args.unparsed) {
          await writeAll(io.stdout, unparsedListing(name, dump.input.dump));
          continue;
        }
        // Only JSON lists every frame; the other formats draw the findings' exception stacks.
        if (args.format === 'json') {
          // In pieces, waiting for the reader, each process's frames built as it is written.
          for (const piece of reportInputJsonBytes(dump.input)) if (!io.stdout.write(piece)) await once(io.stdout, 'drain');
          io.stdout.write('\n');
        } else {
          // These renderings read no thread: the report lists processes without them.
          const report = buildReport(dump.input, { frames: false, threads: false });
          if (args.format === 'html') sections.push(renderHtmlSection(report));
          else if (args.format === 'svg') blocks.push(svgBlock(report));
          else io.stdout.write(`${renderText(report)}\n`);
        }
      } finally {
        dump.close();
      }
    } catch (e) {
      if (!isInputError(e)) throw e;
      io.stderr.write(`dumpstream: ${name}: ${e.message}\n`);
      if (args.format === 'html') sections.push(renderHtmlFailure(name, e.message));
      status = EXIT.inputFailed;
    }
  }
  if (args.format === 'html') io.stdout.write(htmlPage(sections, args.files.length === 1 ? (args.files[0] === '-' ? '(standard input)' : args.files[0]) : `${args.files.length} dumps`));
  if (args.format === 'svg') io.stdout.write(svgDocument(blocks));
  return status;
}

/** `--unparsed`: the lines of one input not understood, `  LINE  text`, under a line naming it and counting them. */
function unparsedListing(name: string, dump: { unparsed: readonly { line: number; text: string }[]; stats: { unparsedLines: number; lines: number } }): string[] {
  const { unparsedLines, lines } = dump.stats;
  const out = [`${name}: ${unparsedLines} of ${lines} line${lines === 1 ? '' : 's'} not understood\n`];
  const width = String(dump.unparsed.length > 0 ? dump.unparsed[dump.unparsed.length - 1].line : 0).length;
  for (const u of dump.unparsed) out.push(`  ${String(u.line).padStart(width)}  ${u.text}\n`);
  if (unparsedLines > dump.unparsed.length) out.push(`  … ${unparsedLines - dump.unparsed.length} more not listed (the first ${dump.unparsed.length} are)\n`);
  return out;
}

async function writeAll(stream: NodeJS.WritableStream, pieces: readonly string[]): Promise<void> {
  for (const piece of pieces) if (!stream.write(piece)) await once(stream, 'drain');
}

async function open(file: string, stdin: NodeJS.ReadableStream): Promise<{ stream: AsyncIterable<Buffer> | Iterable<Buffer>; size: number | null }> {
  if (file === '-') return { stream: stdin as AsyncIterable<Buffer>, size: null };
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? 'error'})`);
  }
  if (stat.isDirectory()) throw new InputError('is a directory, not a transcript');
  return { size: stat.size, stream: readPieces(file) };
}

/** Bytes read at a time: a decoded piece and its lines stay in the CPU's cache while they are parsed. */
const PIECE_BYTES = 64 * 1024;

/**
 * A file's bytes in 64 KiB pieces, read synchronously (no thread-pool round trip per piece: the
 * parser never waits for a read it did not start) into one buffer that every piece reuses: each
 * piece is consumed before the next is asked for, as the embedded pipeline does. Measured against
 * a read stream of 1 MiB chunks: a quarter less CPU on a process listing. Open and read failures
 * (permissions, I/O errors) become input errors, not crashes.
 */
function* readPieces(file: string): Generator<Buffer> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw readError(e);
  }
  try {
    const buffer = Buffer.allocUnsafe(PIECE_BYTES);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, PIECE_BYTES, null);
      } catch (e) {
        throw readError(e);
      }
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

function readError(e: unknown): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  return new InputError(code === 'EACCES' ? 'permission denied' : `cannot read (${code ?? (e as Error).message})`);
}

/**
 * 100000 as `100,000`. Not toLocaleString: that loads the ICU number formatter, a fifth of the
 * start-up of `analyze` on a small file, for the usage text alone.
 */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
