/**
 * Whether every report the pipeline published is kept for the look-up, once: for each dumpId
 * seen on the reports topic, the kept report decodes to the one published (a complete copy's
 * over an incomplete one's), or it is over REPORT_KEEP_MAX_BYTES and its summary says so; and
 * the time index holds each dumpId once and nothing else. Returns the problems found.
 */
import Redis from 'ioredis';
import { ReportStore } from '@dumpstream/redis';
import { decodeReport } from '@dumpstream/schemas';
import type { FaultRun } from './run';

export async function keptProblems(run: FaultRun): Promise<string[]> {
  const redis = new Redis(run.redis.url);
  try {
    const store = new ReportStore(redis, { prefix: run.prefix });
    const problems: string[] = [];
    for (const [dumpId, seen] of run.observer.reports) {
      const kept = await store.get(dumpId);
      if (kept === null) {
        problems.push(`${dumpId}: published, not kept for the look-up`);
        continue;
      }
      const published = seen.map((s) => s.value);
      const want = published.find((r) => r.status === 'complete') ?? published[0];
      if (kept.summary.state !== want.status) problems.push(`${dumpId}: kept as ${kept.summary.state}, published ${want.status}`);
      // A report over REPORT_KEEP_MAX_BYTES compressed is kept without frames, or as its summary only when that is still over.
      if (kept.avro === null) {
        if (kept.summary.kept !== 'summary' || kept.summary.compressedBytes <= store.keepMaxBytes) problems.push(`${dumpId}: the report is missing, its summary does not say why`);
      } else if (kept.summary.kept === 'without-frames') {
        // Over the cap with its frames, under it without them: the same report, frames left out.
        const k = decodeReport(kept.avro);
        const framed = k.processes.some((p) => p.threads.some((t) => t.frames.length > 0)) || k.stacks.some((s) => s.frames.length > 0);
        if (kept.summary.compressedBytes <= store.keepMaxBytes || framed || JSON.stringify(k.findings) !== JSON.stringify(want.findings)) problems.push(`${dumpId}: the report kept without frames is not the one published, less its frames`);
      } else if (JSON.stringify(decodeReport(kept.avro)) !== JSON.stringify(want)) problems.push(`${dumpId}: the kept report is not the one published`);
    }
    const indexed = await redis.zrange(store.keys.reportsByTime(), 0, -1);
    if (indexed.length !== new Set(indexed).size || indexed.length !== run.observer.reports.size) {
      problems.push(`the time index holds ${indexed.length} entries for ${run.observer.reports.size} reported dumps`);
    }
    return problems;
  } finally {
    redis.disconnect();
  }
}
