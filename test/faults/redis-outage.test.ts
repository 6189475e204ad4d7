/**
 * Fault: Redis unavailable for ten seconds mid-run, twice: stopped (connections refused; it comes
 * back with its data from its append-only file, as a production Redis does) and frozen (SIGSTOP:
 * the port open, nothing answering). Merges wait and resume. Every dump is still reported exactly
 * once.
 */
import { checkRun, recordFigures } from './support/check';
import { FaultRun, sleep } from './support/run';

jest.setTimeout(1_800_000);

let run: FaultRun;

afterAll(async () => {
  await run?.close();
});

it('loses and duplicates nothing when Redis is away for ten seconds', async () => {
  run = await FaultRun.start({ scenario: 'redis-outage' });
  const n = run.fleet.length;
  const submitting = run.submit();
  await run.waitForProgress(Math.ceil(0.25 * n));
  await run.fault('Redis stopped (SIGTERM) for 10 s, started again', async () => {
    await run.redis.stop('SIGTERM');
    await sleep(10_000);
    await run.redis.startAgain();
  });
  await run.waitForProgress(Math.ceil(0.6 * n));
  await run.fault('Redis frozen (SIGSTOP) for 10 s, then SIGCONT', async () => {
    await run.redis.pause();
    await sleep(10_000);
    await run.redis.resume();
  });
  await submitting;
  await run.waitForAll().catch(() => undefined);
  const verdict = await checkRun(run);
  recordFigures(verdict.figures);
  expect(verdict.problems).toEqual([]);
});
