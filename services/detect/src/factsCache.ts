/**
 * The facts this worker merged, kept in memory so that it builds the upload's report from them
 * instead of reading them back from Redis (on the large bench fleet, the read-back was a tenth of
 * detect's CPU and most of Redis's). Parse puts all of an upload's facts on one partition and the
 * report request follows them there (ByUploadPartitioner), so the worker that reports an upload
 * is, barring a rebalance, the one that merged its facts.
 *
 * Redis stays the record: a report reads the list of merged segments from Redis and takes from
 * here only the segments this worker stored there itself (its merge added them), which are the
 * bytes Redis holds. Anything missing (evicted, merged by another worker before a rebalance,
 * merged by this worker as a duplicate) is read from Redis as before.
 */
const TOO_LARGE_REMEMBERED = 1024;

export class FactsCache {
  /** Per upload, its segments' facts; in the Map's order, least recently added to first. */
  private readonly uploads = new Map<string, { blobs: Map<number, Buffer>; bytes: number }>();
  private held = 0;
  /**
   * Uploads too large to hold (over a quarter of maxBytes): one huge dump would otherwise push
   * every other upload's facts out, over and over, and then itself. Cleared when it grows past
   * TOO_LARGE_REMEMBERED (the worst that does is hold such an upload's facts once more).
   */
  private readonly tooLarge = new Set<string>();

  /**
   * `maxBytes`: facts held at most; past it the uploads added to least recently go first. An upload
   * is held only while it is at most a quarter of that. 0 holds none.
   */
  constructor(readonly maxBytes: number) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.held;
  }

  /** Keeps a copy of one segment's facts (the Kafka message's value is a view of a whole fetch response). */
  put(uploadId: string, seq: number, blob: Buffer): void {
    if (this.tooLarge.has(uploadId)) return;
    let upload = this.uploads.get(uploadId);
    if (upload === undefined) upload = { blobs: new Map(), bytes: 0 };
    else this.uploads.delete(uploadId);
    if (upload.blobs.has(seq)) {
      this.uploads.set(uploadId, upload);
      return;
    }
    if (upload.bytes + blob.length > this.maxBytes / 4) {
      this.held -= upload.bytes;
      if (this.tooLarge.size >= TOO_LARGE_REMEMBERED) this.tooLarge.clear();
      this.tooLarge.add(uploadId);
      return;
    }
    this.uploads.set(uploadId, upload);
    upload.blobs.set(seq, Buffer.from(blob));
    upload.bytes += blob.length;
    this.held += blob.length;
    for (const [id, u] of this.uploads) {
      if (this.held <= this.maxBytes) break;
      this.uploads.delete(id);
      this.held -= u.bytes;
    }
  }

  get(uploadId: string, seq: number): Buffer | undefined {
    return this.uploads.get(uploadId)?.blobs.get(seq);
  }

  has(uploadId: string, seq: number): boolean {
    return this.uploads.get(uploadId)?.blobs.has(seq) ?? false;
  }

  /** Lets an upload's facts go (it is reported). */
  drop(uploadId: string): void {
    this.tooLarge.delete(uploadId);
    const u = this.uploads.get(uploadId);
    if (u === undefined) return;
    this.uploads.delete(uploadId);
    this.held -= u.bytes;
  }
}
