/** @dumpstream/cli: the `dumpstream` command and the embedded pipeline behind `analyze`. */
export { analyzeTranscript, InputError, isInputError } from './analyze';
export type { AnalyzeOptions } from './analyze';
export { run, USAGE, EXIT } from './cli';
