import { PassThrough, Readable } from 'node:stream';
import { run } from '@dumpstream/cli';

/**
 * Runs the dumpstream CLI in this process, as bin/main does, with `stdin` as its standard input and
 * `env` as its environment (the test's own when not given), and what it wrote and its exit code.
 */
export async function runCli(args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  const code = await run(args, { stdout, stderr, stdin, ...(options.env === undefined ? {} : { env: options.env }) });
  return { code, out, err };
}
