import { CappedLabel, DEFAULT_LABEL_CAP, MAX_LABEL_LENGTH, OTHER, UNKNOWN } from './labels';

describe('CappedLabel', () => {
  it('keeps the first N distinct names, then counts every new one as other', () => {
    const label = new CappedLabel(3);
    expect(['a.exe', 'b.exe', 'a.exe', 'c.exe', 'd.exe', 'e.exe', 'b.exe'].map((n) => label.value(n))).toEqual(['a.exe', 'b.exe', 'a.exe', 'c.exe', OTHER, OTHER, 'b.exe']);
    expect(label.size).toBe(3);
  });

  it('bounds a storm of odd names to cap + 1 values', () => {
    const label = new CappedLabel();
    const values = new Set<string>();
    for (let i = 0; i < 10_000; i++) values.add(label.value(`random-${i}.exe`));
    expect(values.size).toBe(DEFAULT_LABEL_CAP + 1);
    expect(values.has(OTHER)).toBe(true);
    expect(DEFAULT_LABEL_CAP).toBe(50);
  });

  it('ignores case and surrounding blanks, cuts long names, and calls missing ones unknown without using the cap', () => {
    const label = new CappedLabel(1);
    expect(label.value(null)).toBe(UNKNOWN);
    expect(label.value(undefined)).toBe(UNKNOWN);
    expect(label.value('  ')).toBe(UNKNOWN);
    expect(label.value(' Explorer.EXE ')).toBe('explorer.exe');
    expect(label.value('explorer.exe')).toBe('explorer.exe');
    expect(label.value('other.exe')).toBe(OTHER);
    expect(new CappedLabel().value('x'.repeat(500))).toHaveLength(MAX_LABEL_LENGTH);
  });

  it('with a cap of 0 counts every name as other', () => {
    const label = new CappedLabel(0);
    expect(label.value('a.exe')).toBe(OTHER);
    expect(label.value(null)).toBe(UNKNOWN);
  });

  it('refuses a cap that is not a whole number (bad input on purpose)', () => {
    expect(() => new CappedLabel(-1)).toThrow(new RangeError('label cap must be a whole number from 0 to 100000, got -1'));
    expect(() => new CappedLabel(1.5)).toThrow(RangeError);
  });
});
