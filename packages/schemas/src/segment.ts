import type { DebuggerContext, Segment } from '@dumpstream/transcript';
import { decodeWire, encodeWire } from './registry';
import { optionalKeys, ownerFromWire, putPresent, type OptionalKeys, type Wire } from './wire';

/**
 * A segment as it travels on the `segments` topic: the Segment of @dumpstream/transcript plus
 * what the pipeline needs to route it and to report on the dump.
 */
export interface SegmentMessage extends Segment {
  /**
   * The upload this segment belongs to, chosen by ingest before the first byte (a UUID). The
   * transcript's sha256 (the report's dumpId) is known only after the last byte, so it travels in
   * the DumpManifest instead.
   */
  uploadId: string;
  /** Where the transcript came from: the uploaded file's name, or the spool path. */
  source: string;
  /** The machine the dump was taken on, when the upload said so. */
  host: string | null;
  /** When ingest received the transcript, ms since the epoch. */
  receivedAt: number;
}

type Target = NonNullable<DebuggerContext['target']>;
type Block = NonNullable<DebuggerContext['block']>;
type Thread = NonNullable<DebuggerContext['thread']>;
type Stack = NonNullable<DebuggerContext['stack']>;
type Layout = NonNullable<Stack['layout']>;

interface ContextWire extends Omit<DebuggerContext, 'target' | 'block' | 'thread' | 'stack'> {
  target: Wire<Target> | null;
  block: Wire<Block> | null;
  thread: Wire<Thread> | null;
  stack: (Omit<Stack, 'layout' | 'owner'> & { layout: Wire<Layout> | null; owner: Wire<Stack['owner']> }) | null;
}

interface SegmentWire extends Omit<SegmentMessage, 'context' | 'truncatedLines'> {
  context: ContextWire;
  truncatedLines: number[] | null;
  /** The lines joined by `\n`, from writers since `text` (then `lines` is empty); null from earlier ones. */
  text?: string | null;
}

const TARGET_KEYS = optionalKeys<Target>()(['processAddress', 'pid']);
const BLOCK_KEYS = optionalKeys<Block>()(['address', 'pid']);
const THREAD_KEYS = optionalKeys<Thread>()(['address', 'pid', 'tid', 'index', 'processAddress']);
const LAYOUT_KEYS = optionalKeys<Layout>()(['callSiteOnly']);

/** Encodes a segment message. Throws SchemaError ENCODE_INVALID when a field does not fit the schema. */
export function encodeSegment(message: SegmentMessage): Buffer {
  // The lines as one string: Avro writes a string at a time, and a segment has thousands. (No
  // line holds `\n`: they were split on it.) An empty segment keeps `lines`, so that it does not
  // come back as one empty line.
  const joined = Array.isArray(message.lines) && message.lines.length > 0;
  return encodeWire('Segment', {
    ...message,
    lines: joined ? [] : message.lines,
    text: joined ? message.lines.join('\n') : null,
    truncatedLines: message.truncatedLines ?? [],
  });
}

/**
 * Decodes a segment message into plain objects, the context exactly as the segmenter made it.
 * Throws SchemaError DECODE_FAILED for bytes that are not a Segment.
 */
export function decodeSegment(bytes: Buffer): SegmentMessage {
  const w = decodeWire<SegmentWire>('Segment', bytes);
  return {
    uploadId: w.uploadId,
    seq: w.seq,
    firstLine: w.firstLine,
    context: contextFromWire(w.context),
    lines: w.text != null ? w.text.split('\n') : w.lines,
    source: w.source,
    host: w.host,
    receivedAt: w.receivedAt,
    truncatedLines: w.truncatedLines ?? [],
  };
}

function contextFromWire(w: ContextWire): DebuggerContext {
  const t = w.thread;
  const s = w.stack;
  return {
    mode: w.mode,
    machine: w.machine,
    implicitProcess: w.implicitProcess,
    implicitThread: w.implicitThread,
    command: w.command,
    target: w.target && putPresent<Target, OptionalKeys<Target>>({}, w.target, TARGET_KEYS),
    userPid: w.userPid,
    userThreadIndex: w.userThreadIndex,
    block: w.block && putPresent<Block, OptionalKeys<Block>>({}, w.block, BLOCK_KEYS),
    thread: t && putPresent<Thread, OptionalKeys<Thread>>({ expect: t.expect }, t, THREAD_KEYS),
    stack: s && {
      line: s.line,
      layout: s.layout && putPresent<Layout, OptionalKeys<Layout>>({ numbered: s.layout.numbered, frameAddress: s.layout.frameAddress }, s.layout, LAYOUT_KEYS),
      owner: ownerFromWire(s.owner),
      inBlock: s.inBlock,
      machine: s.machine,
    },
    peb: w.peb,
    listImage: w.listImage,
  };
}
