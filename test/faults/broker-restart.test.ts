/**
 * Fault: the Kafka broker goes away mid-run and comes back with its data: once stopped cleanly
 * (SIGTERM) and down 5 s, once killed (SIGKILL, its logs recovered on start) and down 2 s. Uploads
 * that fail meanwhile are sent again by the client. Every dump is still reported exactly once.
 */
import { checkRun, recordFigures } from './support/check';
import { FaultRun } from './support/run';

jest.setTimeout(1_800_000);

let run: FaultRun;

afterAll(async () => {
  await run?.close();
});

it('loses and duplicates nothing when the broker restarts', async () => {
  run = await FaultRun.start({ scenario: 'broker-restart', watchUploads: true });
  const n = run.fleet.length;
  const submitting = run.submit();
  await run.waitForProgress(Math.ceil(0.25 * n));
  await run.fault('broker stopped (SIGTERM), down 5 s, started again', () => run.broker.restart({ downMs: 5000 }));
  await run.waitForProgress(Math.ceil(0.6 * n));
  await run.fault('broker killed (SIGKILL), down 2 s, started again', () => run.broker.restart({ kill: true, downMs: 2000 }));
  await submitting;
  await run.waitForAll().catch(() => undefined);
  const verdict = await checkRun(run);
  recordFigures(verdict.figures);
  expect(verdict.problems).toEqual([]);
});
