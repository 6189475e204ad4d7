/**
 * @dumpstream/generator: realistic synthetic kd / cdb / WinDbg transcripts of Windows crash dumps,
 * at any size, streamed in bounded chunks, each with the known answer (processes, WerFault.exe
 * chains and the evidence that links them) computed without producing the text.
 */
export { generateTranscript, DEFAULT_CHUNK_SIZE } from './transcript';
export type { GeneratedTranscript, GenerateOptions } from './transcript';
export { writeTranscript } from './write';
export type { WrittenTranscript, WriteOptions } from './write';
export { generateFleet } from './fleet';
export type { FleetSpec, FleetDump } from './fleet';
export { normalizeSpec, EVIDENCE_KINDS, MAX_REPORTERS } from './spec';
export type { DumpSpec, ChainSpec, Os, Arch, DebuggerKind, EvidenceKind, RootStack, SessionStyle, CountRange, NormalizedSpec, NormalizedChain } from './spec';
export type { KnownAnswer, ChainAnswer, ChainRoot } from './answer';
export { GeneratorError, isGeneratorError, GENERATOR_ERROR_CODES } from './errors';
export type { GeneratorErrorCode } from './errors';
export { Prng, mixSeed } from './prng';
