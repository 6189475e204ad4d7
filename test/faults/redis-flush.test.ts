/**
 * Fault: the partial graphs are lost (Redis FLUSHALL mid-run: every key, the sweeper's list and
 * the reported marks with them). Dumps whose facts were lost are reported incomplete, saying so,
 * never dropped silently and never waited on for ever; the others exactly as `analyze` reports
 * them. Still one report per dump.
 */
import { checkRun, recordFigures } from './support/check';
import { FaultRun } from './support/run';

jest.setTimeout(1_800_000);

let run: FaultRun;

afterAll(async () => {
  await run?.close();
});

it('reports the dumps whose partial graphs were flushed as incomplete, once each', async () => {
  run = await FaultRun.start({ scenario: 'redis-flush', incompleteAfterS: 20 });
  const n = run.fleet.length;
  const submitting = run.submit();
  await run.waitForProgress(Math.ceil(0.4 * n));
  await run.fault('Redis FLUSHALL', () => run.redis.flushAll());
  await submitting;
  await run.waitForAll().catch(() => undefined);
  const verdict = await checkRun(run, { incompleteAllowed: true });
  recordFigures(verdict.figures);
  expect(verdict.problems).toEqual([]);
  // Some dumps were in flight when their graphs went: the flush did something.
  expect(verdict.figures.incomplete).toBeGreaterThan(0);
  const incomplete = [...run.observer.reports.values()].flat().filter((r) => r.value.status === 'incomplete');
  for (const r of incomplete) expect(r.value.incompleteReason).toMatch(/segments? arrived before the timeout|never arrived|lost from Redis/);
});
