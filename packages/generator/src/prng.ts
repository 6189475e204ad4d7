/**
 * Deterministic pseudo-random numbers: mulberry32 plus a few mixing helpers.
 * Every random choice the generator makes comes from one of these, so the same seed
 * always produces the same bytes.
 */

/** Finalizer of MurmurHash3: a fast 32-bit avalanche mix. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mixes several integers into one well-spread 32-bit seed (order matters). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = fmix32(h ^ lo) + 0x7f4a7c15;
    h = fmix32(h ^ hi) + 0x2545f491;
  }
  return fmix32(h);
}

/** FNV-1a over a string's UTF-16 code units; stable across runs. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** mulberry32: a small, fast, seedable 32-bit PRNG. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = mixSeed(seed) | 0;
  }

  /** Next unsigned 32-bit integer. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const t = items[i] as T;
      items[i] = items[j] as T;
      items[j] = t;
    }
    return items;
  }
}

/**
 * A bijection on [0, 2^bits): spreads consecutive counters over the whole range without
 * collisions, so ids and addresses look random yet are unique by construction.
 */
export class Permutation {
  private readonly mask: number;
  private readonly shift: number;
  private readonly k1: number;
  private readonly m1: number;
  private readonly m2: number;

  constructor(readonly bits: number, seed: number) {
    if (bits < 2 || bits > 30) throw new RangeError(`Permutation bits out of range: ${bits}`);
    this.mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
    this.shift = Math.max(1, Math.ceil(bits / 2));
    const r = new Prng(seed);
    this.k1 = r.next() & this.mask;
    this.m1 = (r.next() | 1) >>> 0;
    this.m2 = (r.next() | 1) >>> 0;
  }

  /** Maps x in [0, 2^bits) to a unique value in the same range. */
  map(x: number): number {
    const m = this.mask;
    x = (x ^ this.k1) & m;
    x = Math.imul(x, this.m1) & m;
    x = (x ^ (x >>> this.shift)) & m;
    x = Math.imul(x, this.m2) & m;
    x = (x ^ (x >>> this.shift)) & m;
    return x >>> 0;
  }
}
