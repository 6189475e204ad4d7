/**
 * @dumpstream/graph: folds segments' facts into the process graph of a dump, and links each
 * WerFault.exe to the process it reports on. Pure.
 */
export { DumpGraph, resolveFacts, stackFrames, factCount, MAX_DUMP_WARNINGS, DEFAULT_MAX_FACTS, FRAMES_PER_FACT } from './graph';
export type { DumpGraphOptions, ProcessNode, ThreadNode, AttributedStack, DumpStats, ResolvedDump, StackText, StackTextPart, StackTextStore, HeldFacts, HeldFactsStore, SegmentIdentities } from './graph';
export { reportLinks, isWerFault, isWerServiceHost, reportedPidFromCommandLine, EVIDENCE_KINDS } from './links';
export type { ReportLink, EvidenceKind } from './links';
