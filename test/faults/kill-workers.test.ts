/**
 * Fault: SIGKILL a parse worker and a detect worker at random moments, several times during the
 * run, and start them again (same WORKER_ID, as a supervisor would). Every dump is still reported
 * exactly once, equal to `analyze`, with one alert per finding and no dead letters.
 */
import { checkRun, recordFigures } from './support/check';
import { keptProblems } from './support/kept';
import { FAULT_STORMS, stormProblems } from './support/storms';
import { FaultRun, randomMs, sleep } from './support/run';
import { startAndWait } from './support/services';
import { waitFor } from '../support/ids';

jest.setTimeout(1_800_000);

let run: FaultRun;

afterAll(async () => {
  await run?.close();
});

it('loses and duplicates nothing when parse and detect workers are killed and restarted', async () => {
  run = await FaultRun.start({ scenario: 'kill-workers', env: FAULT_STORMS });
  const n = run.fleet.length;
  // Uploads spread over a minute: the kills below must fall while dumps are in flight,
  // and an unpaced fleet of 40 can be through before the second kill on a quiet machine.
  const submitting = run.submit(run.fleet, { spreadOverMs: 60_000 });
  // While dumps are still in flight: once the pipeline has made progress since the last restart,
  // after a random 1-6 s more, SIGKILL a parse and a detect worker (in a random order, a moment
  // apart) and start them again 0.5-3 s later (without waiting for them to be up: the next kill
  // may hit a worker that is starting or rejoining its group).
  let inFlight = 0;
  for (let kills = 0; kills < 8 && run.reportedOf() < n; kills++) {
    const progress = run.reportedOf();
    await waitFor('progress since the last kill', () => (run.reportedOf() > progress ? true : undefined), 600_000, 200).catch(() => undefined);
    await sleep(randomMs(1000, 6000));
    if (run.reportedOf() >= n) break;
    inFlight++;
    const parse = run.parsers[Math.floor(Math.random() * run.parsers.length)];
    const detect = run.detectors[Math.floor(Math.random() * run.detectors.length)];
    await run.fault(`SIGKILL ${parse.id} and ${detect.id}`, async () => {
      const first = Math.random() < 0.5 ? parse : detect;
      const second = first === parse ? detect : parse;
      await first.kill('SIGKILL');
      await sleep(randomMs(0, 800));
      await second.kill('SIGKILL');
      await sleep(randomMs(500, 3000));
      parse.start();
      detect.start();
    });
  }
  await Promise.all(run.services.filter((p) => !p.running).map((p) => startAndWait(p)));
  await submitting;
  await run.waitForAll().catch(() => undefined);
  const verdict = await checkRun(run);
  recordFigures(verdict.figures);
  expect(verdict.problems).toEqual([]);
  // And each report is kept for the look-up, once, whoever reported it.
  expect(await keptProblems(run)).toEqual([]);
  // And the fleet's storm counts and events, whichever worker counted or evaluated when it died.
  expect(await stormProblems(run)).toEqual([]);
  // Several kills fell while dumps were in flight.
  expect(inFlight).toBeGreaterThanOrEqual(n >= 100 ? 4 : 2);
});
