import { randomBytes } from 'node:crypto';
import type { TextRef } from '@dumpstream/transcript';
import { StackSpill } from './spill';

/** A deterministic generator, so a failure repeats. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('StackSpill', () => {
  it('gives back every text and every byte run it kept, read in order, backwards and at random, while it still writes', () => {
    const rand = prng(7);
    // A tiny memory budget: almost everything goes to the file, through the pending buffer and
    // past it (runs over its 4 MiB), and reads cross the 1 MiB read window.
    const spill = new StackSpill(1024);
    const kept: { ref: TextRef; text?: string; bytes?: Buffer }[] = [];
    const check = (i: number) => {
      const k = kept[i];
      if (k.text !== undefined) expect(spill.get(k.ref)).toBe(k.text);
      else expect(spill.getBytes(k.ref).equals(k.bytes!)).toBe(true);
    };
    try {
      for (let i = 0; i < 3000; i++) {
        const r = rand();
        const size = r < 0.002 ? 5_000_000 : r < 0.01 ? 1_500_000 : Math.floor(rand() * 3000);
        if (rand() < 0.5) {
          // Characters of 1, 2 and 3 bytes in UTF-8: lengths in characters and in bytes differ.
          const text = Array.from({ length: Math.ceil(size / 40) }, (_, j) => `  ${i}:${j} fffff801\`1234 nt!KiSwapThread+0x8a é € `).join('\n');
          kept.push({ ref: spill.put(text), text });
        } else {
          const bytes = randomBytes(size);
          kept.push({ ref: spill.putBytes(bytes), bytes });
        }
        // Reads between writes: of the newest (often still pending) and of an older one (in the file).
        if (i % 97 === 0) {
          check(i);
          check(Math.floor(rand() * kept.length));
        }
      }
      expect(spill.spilledBytes).toBeGreaterThan(0);
      for (let i = 0; i < kept.length; i++) check(i);
      for (let i = kept.length - 1; i >= 0; i--) check(i);
      for (let n = 0; n < 2000; n++) check(Math.floor(rand() * kept.length));
    } finally {
      spill.close();
    }
  });

  it('reads a run that ends a byte past the read window, or starts on its last byte, whole', () => {
    const spill = new StackSpill(0);
    try {
      const window = 1024 * 1024;
      const runs = [randomBytes(window - 1), randomBytes(2), randomBytes(window - 2), randomBytes(1), randomBytes(3)];
      const refs = runs.map((r) => spill.putBytes(r));
      spill.putBytes(randomBytes(5_000_000)); // past the pending buffer: all of the above in the file
      runs.forEach((r, i) => expect(spill.getBytes(refs[i]).equals(r)).toBe(true));
    } finally {
      spill.close();
    }
  });

  it('hands out byte runs that stay as they were after later reads', () => {
    const spill = new StackSpill(0);
    try {
      const a = randomBytes(100);
      const b = randomBytes(100);
      const ra = spill.putBytes(a);
      const rb = spill.putBytes(b);
      spill.putBytes(randomBytes(5_000_000)); // past the pending buffer: both read from the file
      const got = spill.getBytes(ra);
      spill.getBytes(rb);
      spill.getBytes({ offset: 4_000_000, length: 10 }); // a read elsewhere moves the window
      expect(got.equals(a)).toBe(true);
    } finally {
      spill.close();
    }
  });
});
