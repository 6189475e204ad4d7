/**
 * Access and secrets, with the services as they run in production (child processes):
 *
 * - ingest requires its bearer token (INGEST_TOKEN): 401 without it or with a wrong one;
 * - ingest's /metrics and health endpoints listen on their own address (HEALTH_LISTEN), not on
 *   the upload API's;
 * - detect works against a password-protected Redis (requirepass, REDIS_URL=redis://:pass@…), and
 *   with a wrong password it stops with a clear error;
 * - ids from Kafka messages that could inject into Redis keys (`}`, `:`, `..`) are dead-lettered
 *   and reach no key;
 * - neither the Redis password nor the token (right or wrong) appears in any service's log.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { submitTranscripts } from '@dumpstream/ingest';
import { checkRun, recordFigures } from './support/check';
import { faultFleet } from './support/fleet';
import { FaultRun } from './support/run';
import { ServiceProcess } from './support/services';
import { waitFor } from '../support/ids';

jest.setTimeout(900_000);

const REDIS_PASSWORD = 'pw-7f3c9a1e5b2d8c4f';
const TOKEN = 'tok-0c8e4a2f6b1d9e3a7c5f';
const WRONG_TOKEN = 'tok-wrong-5a1b9c3d7e2f';
let run: FaultRun;
let wrong: ServiceProcess | undefined;

afterAll(async () => {
  await wrong?.close();
  await run?.close();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

it('requires the token, keeps health apart, works with Redis AUTH, refuses key injection and logs no secret', async () => {
  const healthPort = await freePort();
  const fleet = (await faultFleet()).slice(0, 8);
  run = await FaultRun.start({ scenario: 'access', fleet, redis: { password: REDIS_PASSWORD }, token: TOKEN, ingestEnv: { HEALTH_LISTEN: `127.0.0.1:${healthPort}` } });
  expect(run.env.REDIS_URL).toContain(`:${REDIS_PASSWORD}@`);

  // The token.
  const [none] = await submitTranscripts({ files: [fleet[0].file], url: run.ingestUrl });
  const [bad] = await submitTranscripts({ files: [fleet[0].file], url: run.ingestUrl, token: WRONG_TOKEN });
  expect([none.status, bad.status]).toEqual([401, 401]);
  expect(none.error).toMatch(/bearer token is required/);
  expect(bad.error).toMatch(/bearer token is not valid/);

  // Health and metrics on their own address only.
  const api = await fetch(`${run.ingestUrl}/metrics`);
  expect(api.status).toBe(404);
  const metrics = await fetch(`http://127.0.0.1:${healthPort}/metrics`);
  expect(metrics.status).toBe(200);
  expect(await metrics.text()).toMatch(/^dumpstream_/m);
  expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);

  // Hostile ids on the topics detect reads: dead letters, no key.
  const t = run.observer.topics;
  const kafka = new Kafka({ brokers: [run.broker.brokers], clientId: 'access', logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: t.facts.name, messages: [{ key: 'x}:evil:0', value: Buffer.from('facts') }] });
  await producer.send({ topic: t.manifests.name, messages: [{ key: '../../evil', value: Buffer.from('sweep'), headers: { 'x-dumpstream-sweep': 'idle' } }] });
  await producer.disconnect();

  // The fleet, with the token, through a password-protected Redis.
  await run.submit();
  await run.waitForAll(300_000);
  await waitFor('the dead letters', () => (run.observer.deadLetters.length >= 2 ? true : undefined), 60_000, 200);
  const verdict = await checkRun(run, { expectedDeadLetter: (d) => d.errorCode === 'INVALID_ID' && d.service === 'detect' });
  recordFigures(verdict.figures);
  expect(verdict.problems).toEqual([]);
  // Two messages dead-lettered, each at least once: dead letters are produced at least once
  // (docs/RELIABILITY.md), and a rebalance before the offset commit (or the observer's own) shows
  // the same source message's dead letter twice: seen on containers, 'x}:evil:0' twice. Counted by
  // source message (topic, partition, offset), so two different messages with one key still fail.
  const bySource = new Map(run.observer.deadLetters.map((d) => [`${d.value.sourceTopic}@${d.value.sourcePartition}/${d.value.sourceOffset}`, d.value.key]));
  expect([...bySource.values()].sort()).toEqual(['../../evil', 'x}:evil:0']);
  const keys = (await run.redis.command(['KEYS', '*'])) as string[];
  expect(keys.length).toBeGreaterThan(0);
  expect(keys.filter((k) => /evil|\.\./.test(k))).toEqual([]);

  // A wrong Redis password: detect stops with a clear error (the supervisor would restart it).
  const url = new URL(run.env.REDIS_URL);
  url.password = 'not-the-password-3e8d';
  wrong = new ServiceProcess('detect', 'detect-wrongpass', { ...run.env, REDIS_URL: url.toString(), WORKER_ID: 'detect-9', HEALTH_LISTEN: '127.0.0.1:0' }, path.join(run.dir, 'detect-wrongpass.log'), false);
  wrong.start();
  await waitFor('detect with a wrong password to exit', () => (wrong!.exits.length > 0 ? true : undefined), 60_000, 200);
  expect(wrong.exits[0].code).not.toBe(0);
  expect(wrong.stderr).toMatch(/WRONGPASS|NOAUTH|auth/i);

  // No secret in any log.
  for (const p of [...run.services, wrong]) {
    for (const secret of [REDIS_PASSWORD, TOKEN, WRONG_TOKEN, 'not-the-password-3e8d']) {
      expect({ log: p.id, leaks: p.stderr.includes(secret) }).toEqual({ log: p.id, leaks: false });
    }
  }
});
