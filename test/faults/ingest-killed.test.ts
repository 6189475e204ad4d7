/**
 * Fault: ingest killed (SIGKILL) in the middle of uploads, twice. A slow client is sending a
 * large transcript each time; it gets an error (the connection breaks), and the segments ingest
 * had already put on Kafka are reported incomplete (by upload id) once detect has waited
 * DETECT_INCOMPLETE_AFTER (20 s here): no dump stays half-open for ever. The fleet's uploads cut
 * off too are sent again by the client and reported whole.
 */
import { checkRun, recordFigures } from './support/check';
import { victimTranscript } from './support/fleet';
import { FaultRun, sleep } from './support/run';
import { startAndWait } from './support/services';

jest.setTimeout(1_800_000);

let run: FaultRun;

afterAll(async () => {
  await run?.close();
});

it('reports the uploads ingest died in as incomplete, and loses nothing else', async () => {
  run = await FaultRun.start({ scenario: 'ingest-killed', incompleteAfterS: 20, watchUploads: true });
  const n = run.fleet.length;
  const submitting = run.submit();
  const victims: { status: number; error: string | null; sent: number }[] = [];
  for (const [i, share] of [0.2, 0.6].entries()) {
    await run.waitForProgress(Math.ceil(share * n));
    const victim = await victimTranscript(i);
    const upload = run.slowUpload(victim.file, 2 * 1024 * 1024);
    await sleep(3000); // several MB in: segments of it are on Kafka
    await run.fault('ingest killed (SIGKILL) during a slow 10 MB upload, started again after 1 s', async () => {
      await run.ingest.kill('SIGKILL');
      victims.push(await upload);
      await sleep(1000);
      await startAndWait(run.ingest);
    });
  }
  await submitting;
  await run.waitForAll().catch(() => undefined);
  const verdict = await checkRun(run, { orphanWaitMs: 120_000 });
  recordFigures(verdict.figures, { victims });
  expect(verdict.problems).toEqual([]);
  // The clients cut off got an error, not a 202.
  for (const v of victims) {
    expect(v.status).toBe(0);
    expect(v.error).toBeTruthy();
  }
  // Their uploads left segments behind, and each was reported incomplete.
  expect(verdict.figures.orphanUploads).toBeGreaterThanOrEqual(2);
  expect(verdict.figures.orphansReported).toBe(verdict.figures.orphanUploads);
});
