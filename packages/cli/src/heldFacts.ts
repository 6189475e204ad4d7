import type { HeldFacts, HeldFactsStore } from '@dumpstream/graph';
import { decodeFacts, encodeFacts } from '@dumpstream/schemas';
import type { Facts, TextRef } from '@dumpstream/transcript';

/** Processes, threads, stacks and command lines a dump holds as objects before the rest is encoded. */
const DEFAULT_AS_OBJECTS = 50_000;

/** A segment's facts in their wire form, and the stacks' text references the wire does not carry. */
interface Encoded {
  readonly held: Buffer;
  readonly textRefs: (TextRef | undefined)[];
}

/**
 * Holds a large dump's facts in their Avro wire form (packages/schemas), a fraction of their size
 * as objects, until the graph is resolved: then each segment is decoded as it is read. Small dumps
 * never pay for it: the first DEFAULT_AS_OBJECTS facts stay objects.
 */
export class EncodedFacts implements HeldFactsStore {
  private asObjects = 0;

  constructor(private readonly limit = DEFAULT_AS_OBJECTS) {}

  put(facts: Facts): HeldFacts {
    const n = facts.processes.length + facts.threads.length + facts.stacks.length + facts.commandLines.length;
    if (this.asObjects + n <= this.limit) {
      this.asObjects += n;
      return facts;
    }
    const encoded: Encoded = { held: encodeFacts({ ...facts, uploadId: '' }), textRefs: facts.stacks.map((s) => s.textRef) };
    return encoded;
  }

  get(held: HeldFacts): Facts {
    if (!isEncoded(held)) return held as Facts;
    const { uploadId: _, ...facts } = decodeFacts(held.held);
    facts.stacks.forEach((s, i) => {
      const ref = held.textRefs[i];
      if (ref !== undefined) s.textRef = ref;
    });
    return facts;
  }
}

function isEncoded(h: HeldFacts): h is Encoded {
  return Buffer.isBuffer((h as { held?: unknown }).held);
}
