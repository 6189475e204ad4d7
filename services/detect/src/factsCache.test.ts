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
    const cache = new FactsCache(400);
    cache.put('old', 0, blob(80));
    cache.put('mid', 0, blob(80));
    cache.put('mid', 1, blob(80));
    cache.put('old', 1, blob(20)); // added to again: now the most recent
    cache.put('new', 0, blob(90));
    cache.put('new', 1, blob(10));
    expect(cache.bytes).toBe(200);
    expect(cache.has('mid', 0) || cache.has('mid', 1)).toBe(false);
    expect(cache.has('old', 0) && cache.has('old', 1) && cache.has('new', 0) && cache.has('new', 1)).toBe(true);
  });

  it('does not hold an upload larger than a quarter of its bound, so that one huge dump does not push the others out', () => {
    const cache = new FactsCache(400);
    cache.put('small', 0, blob(50));
    cache.put('huge', 0, blob(60));
    cache.put('huge', 1, blob(60)); // 120 > 100: the upload is let go, and not held again
    cache.put('huge', 2, blob(10));
    expect(cache.has('huge', 0) || cache.has('huge', 1) || cache.has('huge', 2)).toBe(false);
    expect(cache.has('small', 0)).toBe(true);
    expect(cache.bytes).toBe(50);
    cache.drop('huge'); // reported: a later upload of the same id (a retry) may be held again
    cache.put('huge', 0, blob(10));
    expect(cache.has('huge', 0)).toBe(true);
  });

  it('holds nothing at all at 0', () => {
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
