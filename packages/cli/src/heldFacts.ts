import type { HeldFacts, HeldFactsStore, SegmentIdentities } from '@dumpstream/graph';
import type { Facts, TextRef } from '@dumpstream/transcript';
import { decodeIdentities, encodeIdentities } from './identities';

// avsc and the schemas take about 20 ms to load, a tenth of `analyze` on a small transcript, and
// only a dump large enough to encode its facts needs them: required at its first encoding.
type Schemas = typeof import('@dumpstream/schemas');
let schemas: Schemas | null = null;
const codec = (): Schemas => (schemas ??= require('@dumpstream/schemas') as Schemas);

/** Processes, threads, stacks and command lines a dump holds as objects before the rest is encoded. */
const DEFAULT_AS_OBJECTS = 50_000;

/** A segment's facts in their wire form (or where a file keeps it), and the stacks' text references the wire does not carry. */
interface Encoded {
  readonly held: Buffer | TextRef;
  /**
   * Offset and length of each stack's text reference, in pairs (NaN: none), or where the file keeps
   * them: an object per stack weighed more than the facts' bytes.
   */
  readonly textRefs: Float64Array | TextRef;
  /** What the graph's first pass reads (identities.ts), or where the file keeps it; null: decode `held`. */
  readonly identities: Buffer | TextRef | null;
}

/** Where encoded facts can wait outside memory (StackSpill's file). */
export interface BytesStore {
  putBytes(bytes: Uint8Array): TextRef;
  getBytes(ref: TextRef): Buffer;
}

/**
 * Holds a large dump's facts in their Avro wire form (packages/schemas), a fraction of their size
 * as objects, until the graph is resolved: then each segment is decoded as it is read. Small dumps
 * never pay for it: the first DEFAULT_AS_OBJECTS facts stay objects.
 */
export class EncodedFacts implements HeldFactsStore {
  private asObjects = 0;

  /**
   * With `file`, the encoded facts wait there rather than in memory: read back and let go at the
   * end, their bytes would stay in the process's memory (the allocator keeps what it freed), as
   * much as the graph built from them.
   */
  constructor(
    private readonly limit = DEFAULT_AS_OBJECTS,
    private readonly file: BytesStore | null = null,
  ) {}

  put(facts: Facts): HeldFacts {
    const n = facts.processes.length + facts.threads.length + facts.stacks.length + facts.commandLines.length;
    if (this.asObjects + n <= this.limit) {
      this.asObjects += n;
      return facts;
    }
    const bytes = codec().encodeFacts({ ...facts, uploadId: '' });
    const textRefs = new Float64Array(facts.stacks.length * 2);
    facts.stacks.forEach((s, i) => {
      textRefs[2 * i] = s.textRef !== undefined ? s.textRef.offset : NaN;
      textRefs[2 * i + 1] = s.textRef !== undefined ? s.textRef.length : NaN;
    });
    const ids = encodeIdentities(facts);
    const encoded: Encoded =
      this.file === null
        ? { held: bytes, textRefs, identities: ids }
        : {
            held: this.file.putBytes(bytes),
            textRefs: this.file.putBytes(new Uint8Array(textRefs.buffer, textRefs.byteOffset, textRefs.byteLength)),
            identities: ids === null ? null : this.file.putBytes(ids),
          };
    return encoded;
  }

  /** What the graph's first pass reads, decoded without the rest (a fraction of get's work). */
  identities(held: HeldFacts): SegmentIdentities {
    if (!isEncoded(held)) return held as Facts;
    const ids = held.identities;
    if (ids !== null) return decodeIdentities(Buffer.isBuffer(ids) ? ids : this.file!.getBytes(ids));
    // A fact that did not fit encodeIdentities' layout (an address of over 21,845 characters, an
    // unknown source): decoded in full, as rare as that is.
    return this.get(held);
  }

  get(held: HeldFacts): Facts {
    if (!isEncoded(held)) return held as Facts;
    const { uploadId: _, ...facts } = codec().decodeFacts(Buffer.isBuffer(held.held) ? held.held : this.file!.getBytes(held.held));
    const refs = held.textRefs instanceof Float64Array ? held.textRefs : float64s(this.file!.getBytes(held.textRefs));
    facts.stacks.forEach((s, i) => {
      const offset = refs[2 * i];
      if (!Number.isNaN(offset)) s.textRef = { offset, length: refs[2 * i + 1] };
    });
    return facts;
  }
}

/** The numbers of bytes read back (copied: a Buffer's offset need not be aligned for a Float64Array). */
function float64s(bytes: Buffer): Float64Array {
  const out = new Float64Array(bytes.length / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

function isEncoded(h: HeldFacts): h is Encoded {
  return (h as { held?: unknown }).held !== undefined;
}
