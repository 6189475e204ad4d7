/**
 * @dumpstream/transcript: streams debugger transcripts (kd, cdb, WinDbg, livekd) into segments
 * and parses each segment into facts. Pure: no I/O beyond what callers feed in.
 */
export type {
  Owner,
  ProcessFact,
  ThreadFact,
  ThreadState,
  WaitObject,
  Frame,
  StackFact,
  TextRef,
  CommandLineFact,
  SystemFacts,
  SystemFact,
  Warning,
  WarningKind,
  Facts,
  UnparsedLine,
} from './facts';
export { MAX_UNPARSED_SAMPLE, MAX_UNPARSED_TEXT } from './facts';
export type { DebuggerContext } from './context';
export { initialContext } from './context';
export { LineReader, sniffTranscript, MAX_LINE_LENGTH } from './lines';
export type { LineBatch, Sniff } from './lines';
export { Segmenter, parseSegment } from './segmenter';
export type { Segment, SegmenterOptions, SegmentationSummary } from './segmenter';
export { SegmentCutter } from './cutter';
export type { CutSummary } from './cutter';
export { parseLines, TranscriptParser } from './parser';
export { cleanLine, canonicalHex, intern, own } from './text';
export { readStackFrames, STACK_NUMBERED, STACK_FRAME_ADDRESS, STACK_CALL_SITE_ONLY, STACK_PARAMETERS, STACK_HEADERLESS } from './stacks';
export { imageFromCommandLine } from './grammar';
