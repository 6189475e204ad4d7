import type { HeldFacts, HeldFactsStore } from '@dumpstream/graph';
import { decodeFacts, encodeFacts } from '@dumpstream/schemas';
import type { Facts, TextRef } from '@dumpstream/transcript';

/** Processes, threads, stacks and command lines a dump holds as objects before the rest is encoded. */
const DEFAULT_AS_OBJECTS = 50_000;

/** A segment's facts in their wire form (or where a file keeps it), and the stacks' text references the wire does not carry. */
interface Encoded {
  readonly held: Buffer | TextRef;
  readonly textRefs: (TextRef | undefined)[];
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
    const bytes = encodeFacts({ ...facts, uploadId: '' });
    const encoded: Encoded = { held: this.file === null ? bytes : this.file.putBytes(bytes), textRefs: facts.stacks.map((s) => s.textRef) };
    return encoded;
  }

  get(held: HeldFacts): Facts {
    if (!isEncoded(held)) return held as Facts;
    const { uploadId: _, ...facts } = decodeFacts(Buffer.isBuffer(held.held) ? held.held : this.file!.getBytes(held.held));
    facts.stacks.forEach((s, i) => {
      const ref = held.textRefs[i];
      if (ref !== undefined) s.textRef = ref;
    });
    return facts;
  }
}

function isEncoded(h: HeldFacts): h is Encoded {
  return (h as { held?: unknown }).held !== undefined;
}
