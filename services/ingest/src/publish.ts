import { createHash, randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { compressionFor, type Log, type Topics } from '@dumpstream/kafka';
import { encodeDumpManifest, encodeSegment, type DumpManifest } from '@dumpstream/schemas';
import { SegmentCutter, sniffTranscript, type Segment } from '@dumpstream/transcript';
import { detailOf, IngestError, toIngestError } from './errors';
import type { UploadMetadata } from './metadata';
import type { IngestMetrics, Way } from '@dumpstream/metrics';

/** Where transcripts go and how: shared by the HTTP API and the spool folder. */
export interface PublishTarget {
  producer: Producer;
  topics: Topics;
  log: Log;
  metrics: IngestMetrics;
  /** The SegmentCutter's maxLines (config.ingest.maxLinesPerSegment). */
  maxLinesPerSegment: number;
  /** Encoded segment bytes one upload may have in flight to Kafka before it stops reading. */
  maxInFlightBytes: number;
}

/** What an ingested transcript became: the 202 answer's body. */
export interface IngestedTranscript {
  uploadId: string;
  /** sha256 of the transcript's bytes, lowercase hex. */
  dumpId: string;
  segments: number;
  lines: number;
  bytes: number;
}

/** Bytes looked at before deciding the input is text (sniffTranscript reads at most 64 KiB). */
const SNIFF_BYTES = 16 * 1024;
/** Segments put together in one produce request, at most (one larger segment goes alone). */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
const MAX_REASON = 1000;

/**
 * Streams one transcript into the `segments` topic, then its DumpManifest into `manifests`.
 *
 * Reads `body` (decoded bytes) chunk by chunk: sniffs the head (binary input is refused before
 * anything is produced), hashes and segments each chunk, and hands each segment to Kafka keyed
 * `uploadId:seq`; it stops reading while more than `maxInFlightBytes` of segments are unacknowledged.
 * After the last segment is acknowledged it produces a `complete` manifest. If anything fails once
 * segments may have been produced, it produces an `aborted` manifest with the reason (best effort)
 * and throws.
 * @throws IngestError EMPTY, NOT_TRANSCRIPT for binary input (nothing produced); NOT_TRANSCRIPT for
 *   text with nothing a debugger prints, KAFKA, or the body's own errors (TOO_LARGE,
 *   CLIENT_ABORTED, …) after an aborted manifest.
 */
export async function publishTranscript(target: PublishTarget, body: AsyncIterable<Buffer>, meta: UploadMetadata & { way: Way }): Promise<IngestedTranscript> {
  const uploadId = randomUUID();
  const receivedAt = Date.now();
  const { log, metrics } = target;
  const hash = createHash('sha256');
  const sender = new SegmentSender(target.producer, target.topics.segments.name, target.maxInFlightBytes, () => metrics.segmentsProduced.inc(), () => metrics.kafkaErrors.inc({ operation: 'publish' }));
  let lines = 0;
  let bytes = 0;
  let encodeFailure: unknown = null;
  // Cuts without parsing: the parse workers parse (see SegmentCutter).
  const segmenter = new SegmentCutter(
    (segment: Segment) => {
      if (encodeFailure !== null) return;
      try {
        const value = encodeSegment({ ...segment, uploadId, source: meta.source, host: meta.host, receivedAt });
        lines += segment.lines.length;
        sender.add(`${uploadId}:${segment.seq}`, value);
      } catch (e) {
        encodeFailure = e;
      }
    },
    { maxLines: target.maxLinesPerSegment },
  );
  const feed = (chunk: Buffer): void => {
    bytes += chunk.length;
    hash.update(chunk);
    segmenter.push(chunk);
    if (encodeFailure !== null) throw encodeFailure;
  };

  let head: Buffer[] | null = [];
  let headBytes = 0;
  const sniff = (): void => {
    const first = Buffer.concat(head!);
    if (first.length === 0) throw new IngestError('EMPTY', 'empty transcript: the body has no bytes');
    const verdict = sniffTranscript(first);
    if (!verdict.ok) throw new IngestError('NOT_TRANSCRIPT', `not a transcript: ${verdict.reason}`);
    head = null;
    log.debug('upload started', { uploadId, source: meta.source, host: meta.host, way: meta.way });
    feed(first);
  };

  try {
    for await (const chunk of body) {
      metrics.bytesReceived.inc({ way: meta.way }, chunk.length);
      if (head !== null) {
        head.push(chunk);
        headBytes += chunk.length;
        if (headBytes < SNIFF_BYTES) continue;
        sniff();
      } else {
        feed(chunk);
      }
      await sender.room();
    }
    if (head !== null) sniff();
    const summary = segmenter.end();
    if (encodeFailure !== null) throw encodeFailure;
    await sender.flush();
    // Text, but not a transcript (an HTML page, JSON, another program's log): refused as
    // `dumpstream analyze` refuses it, and the segments already out are dropped (aborted manifest).
    if (!summary.debuggerOutput) throw new IngestError('NOT_TRANSCRIPT', `not a debugger transcript: no prompt, process, thread or stack in ${summary.lines} line${summary.lines === 1 ? '' : 's'}`);
    const dumpId = hash.digest('hex');
    await sendManifest(target, { uploadId, dumpId, source: meta.source, host: meta.host, segments: summary.segments, lines: summary.lines, bytes: summary.bytes, receivedAt, status: 'complete', reason: null });
    metrics.transcriptsReceived.inc({ way: meta.way });
    log.info('transcript ingested', { uploadId, dumpId, source: meta.source, host: meta.host, way: meta.way, segments: summary.segments, lines: summary.lines, bytes: summary.bytes, ms: Date.now() - receivedAt });
    return { uploadId, dumpId, segments: summary.segments, lines: summary.lines, bytes: summary.bytes };
  } catch (e) {
    const err = toIngestError(e);
    if (head === null) {
      // Segments may be out: say the dump is not whole, so it is never reported as if it were.
      await sender.settle();
      const reason = detailOf(err);
      const aborted: DumpManifest = { uploadId, dumpId: hash.digest('hex'), source: meta.source, host: meta.host, segments: sender.produced, lines, bytes, receivedAt, status: 'aborted', reason: reason.slice(0, MAX_REASON) };
      await sendManifest(target, aborted).catch((me: unknown) => log.error('could not send the aborted manifest', { uploadId, error: me }));
      log.warn('upload aborted', { uploadId, source: meta.source, way: meta.way, code: err.code, reason, segments: sender.produced, bytes });
    }
    throw err;
  }
}

async function sendManifest(target: PublishTarget, manifest: DumpManifest): Promise<void> {
  await target.producer.send({ topic: target.topics.manifests.name, acks: -1, messages: [{ key: manifest.uploadId, value: encodeDumpManifest(manifest) }] });
}

/**
 * One upload's segments on their way to Kafka, counted until acknowledged so that the reader can
 * wait for room. One produce request at a time per upload: the segments cut while it is out go
 * together in the next one (up to MAX_REQUEST_BYTES), so a fast upload makes a few large requests
 * instead of one per segment (each costs kafkajs and the broker a round of work), and a slow one
 * loses no time waiting for company. The first failure (after the client's retries) sticks and is
 * thrown from room/flush.
 */
class SegmentSender {
  produced = 0;
  private inFlightBytes = 0;
  private queue: { key: string; value: Buffer }[] = [];
  private sending: Promise<void> | null = null;
  private failure: unknown = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly maxInFlightBytes: number,
    private readonly onAck: () => void,
    private readonly onError: () => void,
  ) {}

  add(key: string, value: Buffer): void {
    if (this.failure !== null) throw this.failure;
    this.produced++;
    this.inFlightBytes += value.length;
    this.queue.push({ key, value });
    if (this.sending === null) this.sendQueued();
  }

  private sendQueued(): void {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n].value.length <= MAX_REQUEST_BYTES)) bytes += this.queue[n++].value.length;
    const messages = this.queue.splice(0, n);
    const largest = messages.reduce((m, x) => Math.max(m, x.value.length), 0);
    this.sending = this.producer
      .send({ topic: this.topic, acks: -1, compression: compressionFor(largest), messages })
      .then(
        () => {
          for (let i = 0; i < messages.length; i++) this.onAck();
        },
        (e: unknown) => {
          this.onError();
          this.failure ??= e;
        },
      )
      .finally(() => {
        this.inFlightBytes -= bytes;
        this.sending = null;
        if (this.queue.length > 0) {
          if (this.failure === null) this.sendQueued();
          else for (const m of this.queue.splice(0)) this.inFlightBytes -= m.value.length;
        }
        const w = this.wake;
        this.wake = null;
        w?.();
      });
  }

  /** Resolves once the segments in flight are under the limit. */
  async room(): Promise<void> {
    while (this.failure === null && this.inFlightBytes > this.maxInFlightBytes) await this.changed();
    if (this.failure !== null) throw this.failure;
  }

  /** Resolves once every segment is acknowledged. */
  async flush(): Promise<void> {
    while (this.failure === null && (this.sending !== null || this.queue.length > 0)) await this.changed();
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for the sends in flight to end, however they end. */
  async settle(): Promise<void> {
    while (this.sending !== null) await this.sending.catch(() => undefined);
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => {
      const prev = this.wake;
      this.wake = () => {
        prev?.();
        resolve();
      };
    });
  }
}
