/** What every command writes to and reads from (the process's, or a test's). */
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream | NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** The environment options fall back on (the process's when absent). */
  env?: NodeJS.ProcessEnv;
}

/** Exit statuses: 0 done; 1 an input or a run failed; 2 the command line or configuration is wrong. */
export const EXIT = { ok: 0, inputFailed: 1, usage: 2 } as const;

/** A mistake on the command line: printed with the usage, exit status 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** Brand check that survives duplicated modules and jest realms. */
export function isUsageError(e: unknown): e is UsageError {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'USAGE';
}
