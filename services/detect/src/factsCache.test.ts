import { FactsCache } from './factsCache';

const blob = (n: number, fill = 1) => Buffer.alloc(n, fill);

describe('FactsCache', () => {
  it('holds its own copy of what it is given', () => {
    const cache = new FactsCache(1000);
    const b = blob(10, 7);
    cache.put('u1', 0, b);
    b.fill(0);
    expect(cache.get('u1', 0)).toEqual(blob(10, 7));
    expect(cache.has('u1', 0)).toBe(true);
    expect(cache.get('u1', 1)).toBeUndefined();
    expect(cache.get('u2', 0)).toBeUndefined();
    expect(cache.bytes).toBe(10);
  });

  it('keeps the first copy of a segment and counts it once', () => {
    const cache = new FactsCache(1000);
    cache.put('u1', 0, blob(10, 1));
    cache.put('u1', 0, blob(20, 2));
    expect(cache.get('u1', 0)).toEqual(blob(10, 1));
    expect(cache.bytes).toBe(10);
  });

  it('past its bound, lets go first of the uploads added to least recently, whole', () => {
    const cache = new FactsCache(100);
    cache.put('old', 0, blob(40));
    cache.put('mid', 0, blob(40));
    cache.put('old', 1, blob(10)); // added to again: now the most recent
    cache.put('new', 0, blob(40));
    expect(cache.bytes).toBe(90);
    expect(cache.has('mid', 0)).toBe(false);
    expect(cache.has('old', 0) && cache.has('old', 1) && cache.has('new', 0)).toBe(true);
  });

  it('holds nothing larger than its bound, and nothing at all at 0', () => {
    const small = new FactsCache(100);
    small.put('u', 0, blob(101));
    expect(small.has('u', 0)).toBe(false);
    const off = new FactsCache(0);
    off.put('u', 0, blob(1));
    expect(off.has('u', 0)).toBe(false);
    expect(off.bytes).toBe(0);
  });

  it('lets an upload go when it is dropped', () => {
    const cache = new FactsCache(1000);
    cache.put('u1', 0, blob(10));
    cache.put('u1', 1, blob(10));
    cache.put('u2', 0, blob(5));
    cache.drop('u1');
    cache.drop('never');
    expect(cache.has('u1', 0)).toBe(false);
    expect(cache.bytes).toBe(5);
  });
});
