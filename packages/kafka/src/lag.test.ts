import { lagOf } from './lag';

describe('lagOf', () => {
  const offsets = [
    { partition: 0, low: '0', high: '10' },
    { partition: 1, low: '5', high: '8' },
    { partition: 2, low: '0', high: '0' },
  ];

  it('sums high watermark minus committed offset over the assigned partitions only', () => {
    expect(lagOf([0, 1], offsets, [{ partition: 0, offset: '7' }, { partition: 1, offset: '8' }])).toBe(3);
    expect(lagOf([1], offsets, [{ partition: 0, offset: '7' }, { partition: 1, offset: '6' }])).toBe(2);
  });

  it('counts from the log start where the group has committed nothing (-1 or missing)', () => {
    expect(lagOf([0, 1], offsets, [{ partition: 0, offset: '-1' }])).toBe(13);
  });

  it('is 0 when caught up, with nothing assigned, or for partitions it does not know', () => {
    expect(lagOf([0], offsets, [{ partition: 0, offset: '10' }])).toBe(0);
    expect(lagOf([], offsets, [])).toBe(0);
    expect(lagOf([2, 9], offsets, [])).toBe(0);
  });

  it('handles 64-bit offsets', () => {
    expect(lagOf([0], [{ partition: 0, low: '0', high: '9007199254740993' }], [{ partition: 0, offset: '9007199254740990' }])).toBe(3);
  });
});
