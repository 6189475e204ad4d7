/**
 * Facts: what one segment of a transcript says, as plain data.
 *
 * Every fact carries `line`, its 1-based line number in the whole transcript. Line numbers are
 * unique within a dump, so they double as fact identities: merging the same fact twice, or facts
 * in any order, gives the same graph (see @dumpstream/graph).
 *
 * Addresses are lowercase hex without `0x` or the debugger's backtick; pids and tids are numbers
 * (the transcript prints them in hex).
 */

/** Which process (and maybe thread) an attributed fact belongs to, as far as the transcript says. */
export interface Owner {
  /** EPROCESS address (kernel) of the owning process. */
  processAddress?: string;
  pid?: number;
  /** ETHREAD address (kernel) of the owning thread. */
  threadAddress?: string;
  tid?: number;
  /** User-mode debugger thread number (`0:004>` is thread 4), resolved through `~` listings. */
  threadIndex?: number;
  /** PEB address, when only `!peb <addr>` names the process. */
  peb?: string;
}

/**
 * One field set seen for a process: a PROCESS block, or a line naming a process elsewhere. The
 * parser makes a PROCESS block's fact a BlockFact (parser.ts: room for its fields as they come),
 * a plain object everywhere else; no reader may depend on the difference (compare facts as data:
 * toEqual, or JSON).
 */
export interface ProcessFact {
  line: number;
  address?: string;
  pid?: number;
  parentPid?: number;
  /** `none` in the transcript becomes null; absent stays undefined. */
  sessionId?: number | null;
  peb?: string;
  /** `HandleCount:` or, on old systems, `TableSize:`; null when `<Data Not Accessible>`. */
  handleCount?: number | null;
  image?: string;
  objectTable?: string;
  /** Detail lines of `!process … 7/1f/ff` (`ElapsedTime`, `VirtualSize`, `CommitCharge`, …), as printed. */
  details?: Record<string, string>;
  /** Where the fact came from: a PROCESS block, a THREAD's `Owning Process`, a `|` listing, … */
  source: 'process-block' | 'owning-process' | 'user-process' | 'thread-listing' | 'context';
}

export type ThreadState =
  | 'WAIT'
  | 'RUNNING'
  | 'READY'
  | 'STANDBY'
  | 'TERMINATED'
  | 'TRANSITION'
  | 'DEFERREDREADY'
  | 'GATEWAIT'
  | 'INITIALIZED'
  | 'UNKNOWN';

export interface WaitObject {
  address: string;
  type: string;
}

export interface ThreadFact {
  line: number;
  address?: string;
  pid?: number;
  tid?: number;
  /** As the debugger printed it: a ThreadState, or `!stacks`' words (`Blocked`, `Ready`, …). */
  state?: ThreadState | string;
  waitReason?: string;
  waitMode?: string;
  processor?: number;
  waitsOn: WaitObject[];
  /** EPROCESS address from `Owning Process` (or the enclosing PROCESS block). */
  processAddress?: string;
  /** User-mode thread number from a `~` listing. */
  index?: number;
  /** Thread name from modern `~` listings (`Unfrozen "main"`). */
  name?: string;
  /** `Kernel stack not resident.` was printed for this thread. */
  stackNotResident?: boolean;
}

export interface Frame {
  /** Frame number when printed (`kn`, `# Child-SP`), else undefined. */
  number?: number;
  module: string | null;
  function: string | null;
  /** Offset as printed, e.g. `0x186`; null when the call site has none. */
  offset: string | null;
  returnAddress: string | null;
  frameAddress: string | null;
  /** The call site as printed, without source, FPO, TrapFrame or CONV suffixes. */
  callSite: string;
  /** The frame's whole line as printed (after cleaning). */
  raw: string;
  line: number;
  /** `[file @ line]` when printed. */
  source?: string;
  inline?: boolean;
  /** Internal to the parser: a second frame glued onto this frame's line. Never in facts. */
  glued?: string;
}

/**
 * A stack as printed, and what process and thread it belongs to.
 *
 * Its frames are kept as the text they were printed in, and built only when a report renders
 * them (readStackFrames): a dump of millions of frames costs a string per stack, not an object
 * and its strings per frame.
 */
export interface StackFact {
  /** Line of the stack's header or first frame; the stack's identity. */
  line: number;
  owner: Owner;
  /** Effective machine when printed (x86 inside WOW64, x64, …). */
  machine: string | null;
  /** Printed inside a PROCESS or THREAD block (`!process … ff`, `!thread`), not by `k`. */
  inBlock: boolean;
  /**
   * The lines this fact holds, as printed (after cleaning), joined by `\n`: the frame lines and
   * the other lines a stack may hold (`...`, wrapped source lines, warnings). Empty when the
   * text was moved out of memory (see textRef).
   */
  text: string;
  /** Line number of the first line of text. */
  textLine: number;
  /** How the frame lines read: STACK_* flags (see stacks.ts). */
  layout: number;
  /** Frames in text (a line with two frames glued onto it counts two). */
  frameCount: number;
  /** The author cut frames out (`...`). */
  elided: boolean;
  /** True when this fact continues a stack that an earlier segment started (same `line`). */
  continuation?: boolean;
  /** Where the text went when the embedded pipeline moved it out of memory. */
  textRef?: TextRef;
  /** Frames already built: only in facts decoded from the first wire format, which carried frames, not text. */
  frames?: Frame[];
}

/** A stack's text kept outside memory (bytes of UTF-8 in a spill file). */
export interface TextRef {
  offset: number;
  length: number;
}

export interface CommandLineFact {
  line: number;
  owner: Owner;
  commandLine: string;
  imageFile?: string;
}

/** System facts from the debugger's banner, `vertarget` and `!analyze`, as printed. */
export interface SystemFacts {
  debuggerVersion?: string;
  /** The debugger's own architecture (`X86`, `AMD64`), not the target's. */
  debuggerArch?: string;
  /** `Windows 7`, `Windows 10`, `Windows XP` (as the banner names it, even when it is wrong). */
  os?: string;
  osBuild?: number;
  servicePack?: number;
  processors?: number;
  /** The target's architecture: `x86`, `x64`, `arm64`. */
  arch?: string;
  product?: string;
  suite?: string;
  builtBy?: string;
  buildLab?: string;
  /** A bare build string line (`19041.1.amd64fre.vb_release.191206-1406`), as user dumps print it. */
  buildString?: string;
  dumpFile?: string;
  dumpType?: string;
  comment?: string;
  livekdVersion?: string;
  /** `local kernel (lkd)` for live local kernel sessions. */
  target?: string;
  kernelBase?: string;
  bugcheckCode?: string;
  sessionTime?: string;
  systemUptime?: string;
  processUptime?: string;
  machineName?: string;
  mode?: 'kernel' | 'user';
}

export interface SystemFact {
  line: number;
  field: keyof SystemFacts;
  value: string | number;
}

export type WarningKind =
  | 'truncated-line'
  | 'unparsed-field'
  | 'binary-data'
  | 'bad-number'
  | 'truncated-block'
  | 'unattributed'
  | 'segment-cut'
  /** Set by the dump graph, not the parser: the dump passed its fact limit and its end was left out. */
  | 'facts-capped';

export interface Warning {
  line: number;
  kind: WarningKind;
  text: string;
}

/** A line the parser did not understand: its number and its text (cut to MAX_UNPARSED_TEXT characters). */
export interface UnparsedLine {
  line: number;
  text: string;
}

/**
 * Unparsed lines a segment and a dump keep as a sample (the first ones, in transcript order); the
 * rest are counted. A segment keeps as many as a dump, so that the sample is the transcript's
 * first unparsed lines however it was cut into segments.
 */
export const MAX_UNPARSED_SAMPLE = 100;
/** Characters of an unparsed line kept in the sample. */
export const MAX_UNPARSED_TEXT = 240;

/** Everything one segment says. */
export interface Facts {
  /** Sequence number of the segment these facts came from. */
  segment: number;
  firstLine: number;
  lineCount: number;
  unparsedLines: number;
  /** Warnings raised, including those beyond the kept `warnings`. */
  warningCount: number;
  processes: ProcessFact[];
  threads: ThreadFact[];
  stacks: StackFact[];
  commandLines: CommandLineFact[];
  system: SystemFact[];
  warnings: Warning[];
  /** The first unparsed lines (up to the parser's keepUnparsed); absent when none. */
  unparsed?: UnparsedLine[];
}
