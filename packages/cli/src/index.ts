/** @dumpstream/cli: the `dumpstream` command and the embedded pipeline behind `analyze`. */
export { analyzeTranscript, analyzeDump, InputError, isInputError } from './analyze';
export type { AnalyzeOptions, AnalyzedDump } from './analyze';
export { run, USAGE, EXIT } from './cli';
