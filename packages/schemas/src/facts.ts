import type { CommandLineFact, Facts, Frame, ProcessFact, StackFact, SystemFact, ThreadFact, Warning } from '@dumpstream/transcript';
import { decodeWire, encodeWire } from './registry';
import { optionalKeys, ownerFromWire, putPresent, type OptionalKeys, type Wire } from './wire';

/** The facts of one segment as they travel on the `facts` topic: Facts plus the segment's uploadId. */
export interface FactsMessage extends Facts {
  /** The uploadId of the segment these facts came from (see SegmentMessage). */
  uploadId: string;
}

/**
 * `sessionId` and `handleCount` have three states in ProcessFact: absent (not printed), null
 * (printed as `none` or `<Data Not Accessible>`) and a number. One nullable long cannot hold
 * three states, so the wire nests them: null, { value: null }, { value: n }.
 */
type PrintedLong = { value: number | null } | null;

interface ProcessWire extends Omit<Wire<ProcessFact>, 'sessionId' | 'handleCount'> {
  sessionId: PrintedLong;
  handleCount: PrintedLong;
}

interface StackWire extends Omit<Wire<StackFact>, 'owner' | 'frames' | 'textRef'> {
  owner: Wire<StackFact['owner']>;
  frames: Wire<Frame>[];
}

interface FactsWire extends Omit<FactsMessage, 'processes' | 'threads' | 'stacks' | 'commandLines'> {
  processes: ProcessWire[];
  threads: Wire<ThreadFact>[];
  stacks: StackWire[];
  commandLines: (Omit<Wire<CommandLineFact>, 'owner'> & { owner: Wire<CommandLineFact['owner']> })[];
}

// `glued` is internal to the parser and never in facts: it has no field on the wire.
type WireFrame = Omit<Frame, 'glued'>;

const PROCESS_KEYS = optionalKeys<Omit<ProcessFact, 'sessionId' | 'handleCount'>>()(['address', 'pid', 'parentPid', 'peb', 'image', 'objectTable', 'details']);
const THREAD_KEYS = optionalKeys<ThreadFact>()(['address', 'pid', 'tid', 'state', 'waitReason', 'waitMode', 'processor', 'processAddress', 'index', 'name', 'stackNotResident']);
const FRAME_KEYS = optionalKeys<WireFrame>()(['number', 'source', 'inline']);
const STACK_KEYS = optionalKeys<Omit<StackFact, 'textRef' | 'frames'>>()(['continuation']);
const COMMAND_LINE_KEYS = optionalKeys<CommandLineFact>()(['imageFile']);

/** Encodes the facts of one segment. Throws SchemaError ENCODE_INVALID when a field does not fit the schema. */
export function encodeFacts(message: FactsMessage): Buffer {
  return encodeWire('Facts', { ...message, processes: message.processes.map(processToWire), stacks: message.stacks.map(stackToWire) });
}

/**
 * Decodes the facts of one segment into plain objects deep-equal to the parser's: optional fields
 * that were absent stay absent. Throws SchemaError DECODE_FAILED for bytes that are not Facts.
 */
export function decodeFacts(bytes: Buffer): FactsMessage {
  const w = decodeWire<FactsWire>('Facts', bytes);
  return {
    uploadId: w.uploadId,
    segment: w.segment,
    firstLine: w.firstLine,
    lineCount: w.lineCount,
    unparsedLines: w.unparsedLines,
    warningCount: w.warningCount,
    processes: w.processes.map(processFromWire),
    threads: w.threads.map(threadFromWire),
    stacks: w.stacks.map(stackFromWire),
    commandLines: w.commandLines.map((c) =>
      putPresent<CommandLineFact, OptionalKeys<CommandLineFact>>({ line: c.line, owner: ownerFromWire(c.owner), commandLine: c.commandLine }, c, COMMAND_LINE_KEYS),
    ),
    system: w.system.map((s): SystemFact => ({ line: s.line, field: s.field, value: s.value })),
    warnings: w.warnings.map((x): Warning => ({ line: x.line, kind: x.kind, text: x.text })),
    // Absent, as the parser leaves it, when no line went unparsed.
    ...(w.unparsed !== undefined && w.unparsed.length > 0 ? { unparsed: w.unparsed.map((u) => ({ line: u.line, text: u.text })) } : {}),
  };
}

function processToWire(p: ProcessFact): ProcessFact | ProcessWire {
  if (p.sessionId === undefined && p.handleCount === undefined) return p;
  return { ...p, sessionId: printed(p.sessionId), handleCount: printed(p.handleCount) } as ProcessWire;
}

function printed(v: number | null | undefined): PrintedLong {
  return v === undefined ? null : { value: v };
}

function processFromWire(w: ProcessWire): ProcessFact {
  const p = putPresent<ProcessFact, (typeof PROCESS_KEYS)[number]>({ line: w.line, source: w.source }, w, PROCESS_KEYS);
  if (w.sessionId !== null) p.sessionId = w.sessionId.value;
  if (w.handleCount !== null) p.handleCount = w.handleCount.value;
  return p;
}

function threadFromWire(w: Wire<ThreadFact>): ThreadFact {
  return putPresent<ThreadFact, OptionalKeys<ThreadFact>>({ line: w.line, waitsOn: w.waitsOn.map((o) => ({ address: o.address, type: o.type })) }, w, THREAD_KEYS);
}

/** What every stack writes for its frames: stacks travel as their text (avsc only reads it). */
const NO_FRAMES: Wire<Frame>[] = [];

function stackToWire(s: StackFact): StackWire {
  // Stacks travel as their text; built frames only come from version 1 writers (decoded below).
  // The schema's fields one by one, not a spread of the fact: one object shape for avsc's writer,
  // and a spread cost as much as encoding the rest of the stack.
  return {
    line: s.line,
    owner: s.owner as Wire<StackFact['owner']>,
    machine: s.machine,
    inBlock: s.inBlock,
    frames: NO_FRAMES,
    text: s.text,
    textLine: s.textLine,
    layout: s.layout,
    frameCount: s.frameCount,
    elided: s.elided,
    continuation: s.continuation ?? null,
  };
}

function stackFromWire(w: StackWire): StackFact {
  const s = putPresent<StackFact, 'continuation'>(
    { line: w.line, owner: ownerFromWire(w.owner), machine: w.machine, inBlock: w.inBlock, text: w.text, textLine: w.textLine, layout: w.layout, frameCount: w.frameCount, elided: w.elided },
    w,
    STACK_KEYS,
  );
  if (w.frames.length > 0) {
    s.frames = w.frames.map(frameFromWire);
    s.frameCount = s.frames.length;
  }
  return s;
}

function frameFromWire(w: Wire<WireFrame>): Frame {
  return putPresent<Frame, (typeof FRAME_KEYS)[number]>(
    {
      module: w.module,
      function: w.function,
      offset: w.offset,
      returnAddress: w.returnAddress,
      frameAddress: w.frameAddress,
      callSite: w.callSite,
      raw: w.raw,
      line: w.line,
    },
    w,
    FRAME_KEYS,
  );
}
