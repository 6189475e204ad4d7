import type { ErrorReportingFault } from '@dumpstream/detect';
import { signatureOf } from '@dumpstream/fleet';
import { stackFrames, type AttributedStack, type DumpStats, type ProcessNode, type ResolvedDump, type StackText } from '@dumpstream/graph';
import { MAX_UNPARSED_SAMPLE, type Frame, type SystemFacts, type UnparsedLine, type Warning } from '@dumpstream/transcript';

/** The report's schema name; a change to the JSON shape that breaks readers needs a new one. */
export const REPORT_SCHEMA = 'dumpstream.report/v1';

/** A frame as the report prints it. */
export interface ReportFrame {
  module: string | null;
  function: string | null;
  offset: string | null;
  returnAddress: string | null;
  frameAddress: string | null;
  callSite: string;
  raw: string;
  line: number;
}

export interface ReportThread {
  address: string | null;
  tid: number | null;
  state: string | null;
  waitReason: string | null;
  waitMode: string | null;
  waitsOn: { address: string; type: string }[];
  name: string | null;
  stackNotResident: boolean;
  frames: ReportFrame[];
}

export interface ReportProcess {
  address: string | null;
  pid: number | null;
  parentPid: number | null;
  image: string | null;
  sessionId: number | null;
  handleCount: number | null;
  commandLine: string | null;
  threads: ReportThread[];
}

export interface ReportStack {
  pid: number | null;
  tid: number | null;
  processAddress: string | null;
  threadAddress: string | null;
  machine: string | null;
  elided: boolean;
  line: number;
  frames: ReportFrame[];
}

export type ReportFinding = Omit<ErrorReportingFault, 'chains'> & {
  chains: (Omit<ErrorReportingFault['chains'][number], 'root'> & {
    root: Omit<ErrorReportingFault['chains'][number]['root'], 'exceptionStack'> & { exceptionStack: ReportFrame[] | null };
  })[];
  /**
   * What makes two dumps the same fault across the fleet (`v1:<root image>!<module>!<function>`,
   * @dumpstream/fleet signatureOf); null only in reports made before signatures.
   */
  signature: string | null;
};

/** One analysed transcript: the JSON contract of `dumpstream analyze --format json` and of the reports topic. */
export interface Report {
  schema: typeof REPORT_SCHEMA;
  source: string;
  /** sha256 of the transcript's bytes, hex. */
  dumpId: string;
  /** The machine the dump came from, when the upload said so (null for `analyze`). */
  host: string | null;
  /** `incomplete` when the pipeline gave up waiting for part of the transcript (see incompleteReason). */
  status: 'complete' | 'incomplete';
  incompleteReason: string | null;
  system: SystemFacts;
  stats: DumpStats & { bytes: number };
  processes: ReportProcess[];
  stacks: ReportStack[];
  warnings: Warning[];
  findings: ReportFinding[];
  /** The first lines not understood, with their numbers: at most REPORT_UNPARSED_SAMPLE (stats.unparsedLines counts them all). */
  unparsed: UnparsedLine[];
}

/** Unparsed lines a report lists; `analyze --unparsed` prints them all. */
export const REPORT_UNPARSED_SAMPLE = MAX_UNPARSED_SAMPLE;

/** What the pipeline knows about an input besides its graph. */
export interface ReportInput {
  source: string;
  dumpId: string;
  bytes: number;
  dump: ResolvedDump;
  findings: ErrorReportingFault[];
  host?: string | null;
  /** Set when part of the transcript never arrived: the report covers what did. */
  incompleteReason?: string | null;
}

export interface ReportOptions {
  /**
   * Build every thread's and stack's frames (default true). Without them (`frames: false`) the
   * report holds the findings' exception stacks only, which is all the text and picture renderings
   * read: a dump's frames are built from their text only where they are written.
   */
  frames?: boolean;
  /**
   * List each process's threads (default true). The text and picture renderings read a process's
   * pid, image and command line only: without threads (`threads: false`, which implies no frames)
   * their report does not copy a dump's million threads beside its graph.
   */
  threads?: boolean;
}

/** Builds the report of one dump. Pure; the same graph always gives the same report. */
export function buildReport(input: ReportInput, options: ReportOptions = {}): Report {
  const { dump } = input;
  const threads = options.threads ?? true;
  const frames = threads && (options.frames ?? true);
  return {
    schema: REPORT_SCHEMA,
    source: input.source,
    dumpId: input.dumpId,
    host: input.host ?? null,
    status: input.incompleteReason ? 'incomplete' : 'complete',
    incompleteReason: input.incompleteReason ?? null,
    system: dump.system,
    stats: { ...dump.stats, bytes: input.bytes },
    processes: dump.processes.map((p) => reportProcess(p, dump, frames, threads)),
    stacks: dump.stacks.map((s) => reportStack(s, dump, frames)),
    warnings: dump.warnings,
    findings: input.findings.map((f) => ({
      ...f,
      chains: f.chains.map((c) => ({
        ...c,
        root: { ...c.root, exceptionStack: c.root.exceptionStack ? c.root.exceptionStack.map(reportFrame) : null },
      })),
      signature: signatureOf(f),
    })),
    unparsed: dump.unparsed.slice(0, REPORT_UNPARSED_SAMPLE),
  };
}

/** One process of the report, with its threads (when `threads`) and their frames built from their text (when `frames`). */
export function reportProcess(p: ProcessNode, dump: ResolvedDump, frames = true, threads = true): ReportProcess {
  return {
    address: p.address,
    pid: p.pid,
    parentPid: p.parentPid,
    image: p.image,
    sessionId: p.sessionId,
    handleCount: p.handleCount,
    commandLine: p.commandLine,
    threads: !threads ? [] : p.threads.map((t) => ({
      address: t.address,
      tid: t.tid,
      state: t.state,
      waitReason: t.waitReason,
      waitMode: t.waitMode,
      waitsOn: t.waitsOn.map((w) => ({ address: w.address, type: w.type })),
      name: t.name,
      stackNotResident: t.stackNotResident,
      frames: frames ? stackFrames(dump, t.stack).map(reportFrame) : [],
    })),
  };
}

/** One stack printed outside process blocks, with its frames built from their text when `frames`. */
export function reportStack(s: AttributedStack, dump: ResolvedDump, frames = true): ReportStack {
  return {
    pid: s.pid,
    tid: s.tid,
    processAddress: s.processAddress,
    threadAddress: s.threadAddress,
    machine: s.machine,
    elided: s.elided,
    line: s.line,
    frames: frames ? stackFrames(dump, s.stack).map(reportFrame) : [],
  };
}

function reportFrame(f: Frame): ReportFrame {
  return {
    module: f.module,
    function: f.function,
    offset: f.offset,
    returnAddress: f.returnAddress,
    frameAddress: f.frameAddress,
    callSite: f.callSite,
    raw: f.raw,
    line: f.line,
  };
}

/** Frame lines as printed, with where they start and how they read (a stack's text part). */
export interface FrameTextPart {
  text: string;
  textLine: number;
  layout: number;
}

/**
 * A report's frames as their text: per process, per thread (null: no stack), and per stack, in the
 * report's order. The wire form of a report built without frames (`@dumpstream/schemas`
 * encodeReport), whose readers build the same frames back.
 */
export interface ReportFrameTexts {
  threads: (FrameTextPart[] | null)[][];
  stacks: (FrameTextPart[] | null)[];
}

/**
 * Each thread's and stack's frames as their text, in the report's order. Null when a stack's
 * frames came already built (facts of version 1 writers): those have no text, and travel as records.
 */
export function reportFrameTexts(dump: ResolvedDump): ReportFrameTexts | null {
  let built = false;
  const partsOf = (stack: StackText | null): FrameTextPart[] | null => {
    if (stack === null) return null;
    return stack.parts.map((part) => {
      if (part.frames !== undefined && part.frames.length > 0) built = true;
      const text = part.textRef !== undefined && dump.stackText !== null ? dump.stackText.get(part.textRef) : part.text;
      return { text, textLine: part.textLine, layout: part.layout };
    });
  };
  const texts = { threads: dump.processes.map((p) => p.threads.map((t) => partsOf(t.stack))), stacks: dump.stacks.map((s) => partsOf(s.stack)) };
  return built ? null : texts;
}
