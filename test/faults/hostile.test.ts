/**
 * Hostile and broken input through the services as they run in production (child processes),
 * while a fleet of ordinary dumps is submitted beside it. Each input gets a clear error (status
 * and code) or a report (equal to `analyze`'s, with warnings where the input was damaged); the
 * time and each service's peak memory are recorded per input (figures, not assertions: this
 * machine is shared); the ordinary fleet is reported exactly once meanwhile.
 *
 * Covered elsewhere and not repeated here: body slowloris, idle and minimum-rate limits
 * (services/ingest/src/body.test.ts), 401/413/gzip/415/429 details (test/integration/ingest),
 * mutated, truncated and shuffled transcripts and linear parse cost (test/corpus/property).
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { analyzeTranscript } from '@dumpstream/cli';
import type { Report } from '@dumpstream/report';
import { checkRun, recordFigures } from './support/check';
import { faultFleet } from './support/fleet';
import { hostileInputs, type HostileInput } from './support/hostile';
import { FaultRun, SEGMENT_LINES } from './support/run';
import { waitFor } from '../support/ids';

jest.setTimeout(2_400_000);

let run: FaultRun;

afterAll(async () => {
  await run?.close();
});

interface Answer {
  status: number;
  body: string;
}

/** POSTs a file as it is (Content-Length; Content-Encoding: gzip when asked). */
function postFile(url: string, file: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/transcripts`, { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': String(statSync(file).size), ...headers } });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    createReadStream(file).pipe(req);
  });
}

/** Resets the peak resident memory (VmHWM) of a process, so the next reading is this input's. */
function resetPeak(pid: number | undefined): void {
  if (!pid) return;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // not Linux, or not allowed: the figure is then the process's peak so far
  }
}

/** Sends lines of headers one byte a second: ingest must close the connection (headers timeout). */
function headerSlowloris(url: string): Promise<number> {
  const u = new URL(url);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    let timer: NodeJS.Timeout | undefined;
    const text = 'POST /v1/transcripts HTTP/1.1\r\nHost: x\r\nX-Dumpstream-Source: slow.txt\r\nX-Padding: ' + 'a'.repeat(10_000);
    let i = 0;
    s.on('connect', () => {
      timer = setInterval(() => {
        if (!s.destroyed) s.write(text[i++ % text.length]);
      }, 1000);
    });
    const done = () => {
      clearInterval(timer);
      resolve(Date.now() - t0);
    };
    s.on('close', done);
    s.on('error', () => undefined);
    s.resume();
  });
}

/** Sends a body one byte a second, for ever: ingest must drop it (minimum rate after 60 s). */
function bodySlowloris(url: string): Promise<{ ms: number; status: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/transcripts`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-dumpstream-source': 'slow-body.txt', 'transfer-encoding': 'chunked' } });
    const seed = readFileSync(path.resolve(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt'));
    let i = 0;
    const timer = setInterval(() => {
      if (!req.destroyed) req.write(seed.subarray(i % seed.length, (i % seed.length) + 1));
      i++;
    }, 1000);
    const done = (status: number) => {
      clearInterval(timer);
      resolve({ ms: Date.now() - t0, status });
    };
    req.on('response', (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', () => done(0));
    req.on('close', () => done(0));
  });
}

const mb = (n: number) => Math.round(n / 1e6);

/** Detect's fact limit here: the million processes pass it, the quarter million do not. */
const MAX_FACTS = 400_000;

/** `p`, or `otherwise` after `ms`. */
async function within<T>(p: Promise<T>, ms: number, otherwise: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(otherwise), ms)))]);
  clearTimeout(timer);
  return r;
}

it('answers every hostile input with a clear error or a report, and keeps serving the fleet', async () => {
  const inputs = await hostileInputs();
  const fleet = await faultFleet();
  const ordinary = fleet.slice(0, Math.min(fleet.length, 24));
  run = await FaultRun.start({ scenario: 'hostile', fleet: ordinary, env: { INGEST_MAX_BYTES: '300m', INGEST_MAX_CONCURRENT: '6', DUMP_MAX_FACTS: String(MAX_FACTS) } });
  const slowHeaders = headerSlowloris(run.ingestUrl);
  const slowBody = bodySlowloris(run.ingestUrl);
  // The ordinary fleet, two at a time, all through the hostile inputs.
  const submitting = run.submit(ordinary, { concurrency: 2 });

  const rows: Record<string, unknown>[] = [];
  const extra = new Set<string>();
  const problems: string[] = [];
  for (const h of inputs) {
    for (const p of run.services) resetPeak(p.pid);
    const t0 = Date.now();
    const headers: Record<string, string> = { 'x-dumpstream-source': h.name };
    if (h.gzip) headers['content-encoding'] = 'gzip';
    const a = await postFile(run.ingestUrl, h.file, headers);
    const answeredMs = Date.now() - t0;
    let json: { code?: string; error?: string; dumpId?: string; uploadId?: string } = {};
    try {
      json = JSON.parse(a.body) as typeof json;
    } catch {
      // not JSON
    }
    const row: Record<string, unknown> = { input: h.name, what: h.what, megabytes: Math.round(statSync(h.file).size / 1e5) / 10, status: a.status, code: json.code ?? null, answer: json.error ?? null, answeredS: answeredMs / 1000 };
    if ('code' in h.expect) {
      if (a.status !== h.expect.status || json.code !== h.expect.code) problems.push(`${h.name}: ${a.status} ${a.body.slice(0, 200)}, expected ${h.expect.status} ${h.expect.code}`);
    } else if (a.status !== 202 || !json.dumpId) {
      problems.push(`${h.name}: ${a.status} ${a.body.slice(0, 200)}, expected 202`);
    } else {
      const dumpId = json.dumpId;
      extra.add(dumpId);
      const got = await waitFor(`the report of ${h.name}`, () => run.observer.reports.get(dumpId), 900_000, 250).catch(() => undefined);
      row.reportedS = (Date.now() - t0) / 1000;
      if (!got) problems.push(`${h.name}: no report`);
      else {
        const r: Report = got[0].value;
        row.report = { status: r.status, processes: r.stats.processes, lines: r.stats.lines, warnings: r.stats.warnings, warningKinds: [...new Set(r.warnings.map((w) => w.kind))], findings: r.findings.length };
        if (h.expect.report === 'equal-to-analyze') {
          const want = await analyzeTranscript(h.name, createReadStream(h.file), { segmenter: { maxLines: SEGMENT_LINES } });
          if (JSON.stringify(r) !== JSON.stringify(want)) {
            try {
              expect(r).toEqual(want);
            } catch (e) {
              problems.push(`${h.name}: report differs from analyze: ${(e as Error).message.slice(0, 600)}`);
            }
          }
        } else if (h.name.startsWith('million')) {
          // Past the fact limit: the processes of the segments within MAX_FACTS (a segment that opens inside a block names its process again: a fact more), and a warning saying from which line the rest was left out.
          const capped = r.warnings[0]?.kind === 'facts-capped';
          if (!capped || r.stats.processes > MAX_FACTS || r.stats.processes < MAX_FACTS * 0.95) problems.push(`${h.name}: ${r.stats.processes} processes, first warning ${r.warnings[0]?.kind}; expected at most ${MAX_FACTS} and facts-capped`);
        } else if (r.stats.processes !== 250_000 || r.warnings.some((w) => w.kind === 'facts-capped')) {
          problems.push(`${h.name}: ${r.stats.processes} processes, expected 250000 and no facts-capped`);
        }
        if (createHash('sha256').update(readFileSync(h.file)).digest('hex') !== dumpId) problems.push(`${h.name}: dumpId is not the sha256 of the bytes`);
      }
    }
    row.peakRssMB = Object.fromEntries(run.services.map((p) => [p.id, mb(p.readPeakRss())]));
    rows.push(row);
    run.say(`${h.name}: ${a.status} ${json.code ?? ''} in ${answeredMs} ms${row.reportedS ? `, reported after ${row.reportedS} s` : ''}`);
  }

  // Many concurrent uploads past the limit (6): some 429, none crashes anything.
  const medium = fleet[Math.min(fleet.length - 1, 30)];
  extra.add(medium.dumpId);
  const flood = await Promise.all(Array.from({ length: 20 }, () => run.slowUpload(medium.file, 200 * 1024)));
  const statuses = flood.map((f) => f.status).sort();
  if (!statuses.includes(429) || !statuses.includes(202)) problems.push(`20 concurrent uploads past a limit of 6: statuses ${statuses.join(',')}`);
  await waitFor('the flooded dump reported', () => run.observer.reports.get(medium.dumpId), 300_000, 250).catch(() => problems.push('the flooded dump was not reported'));

  // Each resolves when ingest closes the connection; -1 if it never does.
  const slowHeadersMs = await within(slowHeaders, 300_000, -1);
  const slowBodyResult = await within(slowBody, 300_000, { ms: -1, status: 0 });
  await submitting;
  await run.waitForAll(600_000).catch(() => undefined);
  const verdict = await checkRun(run, { extraReports: extra });
  const servicesAlive = run.services.every((p) => p.running && p.starts === 1);
  recordFigures(verdict.figures, {
    inputs: rows,
    flood: { uploads: 20, limit: 6, statuses: Object.fromEntries([...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length])) },
    headerSlowlorisClosedAfterS: slowHeadersMs / 1000,
    bodySlowloris: { closedAfterS: slowBodyResult.ms / 1000, status: slowBodyResult.status },
    servicesNeverRestarted: servicesAlive,
  });
  expect([...problems, ...verdict.problems]).toEqual([]);
  expect(servicesAlive).toBe(true);
  // Both slow clients were cut off (when: in the figures).
  expect(slowHeadersMs).toBeGreaterThan(0);
  expect(slowBodyResult.ms).toBeGreaterThan(0);
});
