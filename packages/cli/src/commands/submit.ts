import { submitTranscripts, SUBMIT_USAGE } from '@dumpstream/ingest';
import { EXIT, UsageError, type Io } from './common';

export { SUBMIT_USAGE };

/** `dumpstream submit FILE... --url URL [--token T] [--host H] [--gzip]`. */
export async function submitCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(SUBMIT_USAGE);
    return EXIT.ok;
  }
  const files: string[] = [];
  let url = process.env.DUMPSTREAM_URL ?? '';
  let token = process.env.DUMPSTREAM_TOKEN;
  let host: string | undefined;
  let gzip = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--url') url = value();
    else if (a === '--token') token = value();
    else if (a === '--host') host = value();
    else if (a === '--gzip') gzip = true;
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else files.push(a);
  }
  if (!url) throw new UsageError('--url is required (or DUMPSTREAM_URL), e.g. --url http://ingest:8080');
  if (files.length === 0) throw new UsageError('no input: name a transcript file, or - for standard input');
  const results = await submitTranscripts({ files, url, token, host, gzip, stderr: io.stderr, stdin: io.stdin as never });
  for (const r of results) {
    if (!r.ok) continue;
    io.stdout.write(`${JSON.stringify({ file: r.file, uploadId: r.uploadId, dumpId: r.dumpId, duplicate: r.duplicate ?? null, ...(r.duplicateOf ? { duplicateOf: r.duplicateOf } : {}) })}\n`);
    // Said on stderr too: otherwise whoever waits for its report waits for ever.
    if (r.duplicate) io.stderr.write(`${r.file}: identical to upload ${r.duplicateOf} sent before: no new report will come (its report has dumpId ${r.dumpId})\n`);
  }
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.inputFailed;
}
