import { DumpGraph, stackFrames, type ResolvedDump } from '@dumpstream/graph';
import { generateTranscript } from '@dumpstream/generator';
import { Segmenter } from '@dumpstream/transcript';
import { EncodedFacts } from './heldFacts';
import { StackSpill } from './spill';

/** Reads a transcript into a graph with the given stores and resolves it. */
function resolveWith(text: string, options: ConstructorParameters<typeof DumpGraph>[0]) {
  const graph = new DumpGraph(options);
  const s = new Segmenter((_seg, f) => graph.merge(f), { maxLines: 200 });
  s.push(text);
  s.end();
  return graph.resolve();
}

/** The dump with every stack's frames built, and nothing that says where its text was kept. */
function withFrames(d: ResolvedDump) {
  return {
    ...d,
    stackText: null,
    processes: d.processes.map((p) => ({ ...p, threads: p.threads.map((t) => ({ ...t, stack: stackFrames(d, t.stack) })) })),
    stacks: d.stacks.map((s) => ({ ...s, stack: stackFrames(d, s.stack) })),
  };
}

describe('EncodedFacts and StackSpill', () => {
  const text = [...generateTranscript({ seed: 3, processes: 60, chains: [{ depth: 4 }], threadsPerProcess: [2, 4], framesPerStack: [6, 12] }).chunks].join('');

  it('give the graph the same facts as holding them as objects, frames included', () => {
    const plain = resolveWith(text, {});
    // Every segment encoded (limit 0) and every stack's text in the spill file (budget 0).
    const spill = new StackSpill(0);
    try {
      const held = resolveWith(text, { heldFacts: new EncodedFacts(0), stackText: spill });
      expect(spill.spilledBytes).toBeGreaterThan(0);
      expect(withFrames(held)).toEqual(withFrames(plain));
      expect(held.stats.frames).toBeGreaterThan(100);
    } finally {
      spill.close();
    }
  });

  it('give the same graph when the encoded facts wait in the spill file, and the graph lets them go as it resolves', () => {
    const plain = resolveWith(text, {});
    const spill = new StackSpill(0);
    try {
      const graph = new DumpGraph({ heldFacts: new EncodedFacts(0, spill), stackText: spill });
      const s = new Segmenter((_seg, f) => graph.merge(f), { maxLines: 200 });
      s.push(text);
      s.end();
      const held = graph.resolve({ release: true });
      expect(withFrames(held)).toEqual(withFrames(plain));
      expect(() => graph.resolve()).toThrow(/release/);
    } finally {
      spill.close();
    }
  });
});
