/**
 * A dump past its fact limit, reported by detect from a real Redis: the same partial report as
 * `analyze --max-facts` gives for the same bytes, and the segments past the cut never decoded.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { analyzeTranscript } from '@dumpstream/cli';
import { buildOutcome } from '@dumpstream/detect-service';
import { factCount } from '@dumpstream/graph';
import { DumpStore } from '@dumpstream/redis';
import { encodeFacts } from '@dumpstream/schemas';
import { Segmenter, type Facts } from '@dumpstream/transcript';
import { freshId, uniquePrefix } from '../support/ids';

const SEED = readFileSync(path.join(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt'));
const SEGMENT = { maxLines: 8, hardMaxLines: 60 };

let redis: Redis;
let store: DumpStore;
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 3 });
  store = new DumpStore(redis, { prefix: uniquePrefix('facts-limit'), leaseMs: 5000 });
});
afterAll(async () => {
  await redis.quit();
});

function segmentsOf(bytes: Buffer): Facts[] {
  const out: Facts[] = [];
  const s = new Segmenter((_seg, f) => out.push(f), SEGMENT);
  s.push(bytes);
  s.end();
  return out;
}

it('reports a dump past DUMP_MAX_FACTS as analyze does, without reading the segments past the cut', async () => {
  const segs = segmentsOf(SEED);
  const total = segs.reduce((n, f) => n + factCount(f), 0);
  const maxFacts = Math.floor(total / 3);
  // The first segment whose facts pass the limit.
  let sum = 0;
  const cut = segs.findIndex((f) => (sum += factCount(f)) > maxFacts);
  expect(cut).toBeGreaterThan(0);
  expect(cut + 2).toBeLessThan(segs.length);

  const upload = freshId();
  for (const f of segs) {
    // Past the cut (beyond the one segment that shows the limit is passed) the blobs are not facts
    // at all: decoding one would throw, so the report shows they were never decoded.
    const blob = f.segment > cut ? Buffer.from('not avro') : encodeFacts({ ...f, uploadId: upload });
    await store.mergeFacts(upload, f.segment, blob);
  }
  const done = await store.recordManifest(upload, { segments: segs.length, dumpId: 'a'.repeat(64), source: 'seed.txt', host: null, lines: 0, bytes: SEED.length, receivedAt: Date.now(), status: 'complete' });
  expect(done.lease).not.toBeNull();

  const outcome = await buildOutcome(store, done.lease!, true, { maxFacts });
  const want = await analyzeTranscript('seed.txt', [SEED], { segmenter: SEGMENT, maxFacts });
  expect(outcome.report.status).toBe('complete');
  expect(outcome.segmentsMerged).toBe(segs.length);
  expect(outcome.report.warnings[0].kind).toBe('facts-capped');
  expect({ ...outcome.report, dumpId: want.dumpId, host: want.host }).toEqual(want);
  // Fewer lines than the whole seed: the end was left out, and said so.
  expect(want.stats.lines).toBe(segs[cut].firstLine - 1);
});
