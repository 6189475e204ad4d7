/**
 * What the pipeline published, read as a user's tool reads it: plain kafkajs consumers,
 * read_committed (reports and alerts of aborted transactions are never seen). Each message is
 * counted once by (topic, partition, offset), so a consumer that restarts after a broker outage
 * and reads some messages again does not make duplicates that are not there.
 */
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { REPORT_REQUEST_HEADER } from '@dumpstream/detect-service';
import { topicsFor, type Topics } from '@dumpstream/kafka';
import type { Report } from '@dumpstream/report';
import { decodeAlert, decodeDumpManifest, decodeReport, decodeStormEvent, readDeadLetterHeaders, type Alert, type DeadLetterInfo, type DumpManifest, type StormEvent } from '@dumpstream/schemas';

export interface Seen<T> {
  value: T;
  at: number;
  partition: number;
  offset: string;
}

export class Observer {
  readonly topics: Topics;
  readonly reports = new Map<string, Seen<Report>[]>();
  readonly alerts = new Map<string, Seen<Alert>[]>();
  readonly deadLetters: Seen<DeadLetterInfo & { key: string | null }>[] = [];
  /** Events on `storms`, in the order seen (one partition). */
  readonly storms: Seen<StormEvent>[] = [];
  /** uploadId → the segment numbers seen on `segments` and on `facts` (watchUploads only): orphaned uploads, and where a lost segment went missing. */
  readonly segmentSeqs = new Map<string, Set<number>>();
  readonly factSeqs = new Map<string, Set<number>>();
  readonly manifests = new Map<string, DumpManifest>();
  private readonly seen = new Set<string>();
  private readonly consumers: Consumer[] = [];

  constructor(
    private readonly brokers: string,
    prefix: string,
    private readonly groupPrefix: string,
  ) {
    this.topics = topicsFor(prefix);
  }

  /** Total reports seen. */
  get reportCount(): number {
    let n = 0;
    for (const r of this.reports.values()) n += r.length;
    return n;
  }

  private once(topic: string, partition: number, offset: string): boolean {
    const k = `${topic}/${partition}/${offset}`;
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }

  async start(options: { watchUploads?: boolean } = {}): Promise<void> {
    const kafka = new Kafka({
      brokers: [this.brokers],
      clientId: `${this.groupPrefix}-observer`,
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 100 },
    });
    const t = this.topics;
    const outputs = kafka.consumer({ groupId: `${this.groupPrefix}-observer`, readUncommitted: false, sessionTimeout: 30_000, maxBytes: 64 * 1024 * 1024 });
    await outputs.connect();
    await outputs.subscribe({ topics: [t.reports.name, t.alerts.name, t.deadLetters.name, t.storms.name], fromBeginning: true });
    await outputs.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (!this.once(topic, partition, message.offset) || message.value === null) return;
        const at = Date.now();
        if (topic === t.reports.name) {
          const r = decodeReport(message.value);
          this.reports.set(r.dumpId, [...(this.reports.get(r.dumpId) ?? []), { value: r, at, partition, offset: message.offset }]);
        } else if (topic === t.storms.name) {
          this.storms.push({ value: decodeStormEvent(message.value), at, partition, offset: message.offset });
        } else if (topic === t.alerts.name) {
          const a = decodeAlert(message.value);
          this.alerts.set(a.dumpId, [...(this.alerts.get(a.dumpId) ?? []), { value: a, at, partition, offset: message.offset }]);
        } else {
          const info = readDeadLetterHeaders(message.headers ?? {});
          this.deadLetters.push({ value: { ...info, key: message.key?.toString('latin1') ?? null }, at, partition, offset: message.offset });
        }
      },
    });
    this.consumers.push(outputs);
    if (options.watchUploads) {
      const inputs = kafka.consumer({ groupId: `${this.groupPrefix}-observer-inputs`, readUncommitted: false, sessionTimeout: 30_000, maxBytes: 64 * 1024 * 1024 });
      await inputs.connect();
      await inputs.subscribe({ topics: [t.segments.name, t.manifests.name, t.facts.name], fromBeginning: true });
      const note = (into: Map<string, Set<number>>, key: string): void => {
        const i = key.lastIndexOf(':');
        const uploadId = key.slice(0, i);
        let seqs = into.get(uploadId);
        if (!seqs) into.set(uploadId, (seqs = new Set()));
        seqs.add(Number(key.slice(i + 1)));
      };
      await inputs.run({
        eachMessage: async ({ topic, partition, message }) => {
          if (!this.once(topic, partition, message.offset) || message.value === null) return;
          if (topic === t.facts.name) {
            // Detect's report requests share the topic (keyed by the bare upload id): not facts.
            if (message.headers?.[REPORT_REQUEST_HEADER] !== undefined) return;
            note(this.factSeqs, message.key?.toString('latin1') ?? '');
          } else if (topic === t.segments.name) {
            note(this.segmentSeqs, message.key?.toString('latin1') ?? '');
          } else if (message.value.length > 0) {
            try {
              const m = decodeDumpManifest(message.value);
              this.manifests.set(m.uploadId, m);
            } catch {
              // not a manifest (a sweep request, say)
            }
          }
        },
      });
      this.consumers.push(inputs);
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.consumers.map((c) => c.disconnect()));
  }
}
