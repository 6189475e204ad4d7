/** How many distinct values a capped label keeps by default before the rest become `other`. */
export const DEFAULT_LABEL_CAP = 50;

/** The value every name past the cap is counted under. */
export const OTHER = 'other';

/** The value of a missing or empty name (a root that is not in the dump, an upload without a host). */
export const UNKNOWN = 'unknown';

/** Longest label value kept; longer names are cut (a label is for reading on a dashboard). */
export const MAX_LABEL_LENGTH = 100;

/**
 * The values of one label with a cardinality cap: the first `cap` distinct names are kept as they
 * are and every later name becomes `other`, so a storm of odd names (random image names, spoofed
 * host names) adds at most one series. Names are trimmed, lower-cased (Windows image and host
 * names ignore case) and cut to MAX_LABEL_LENGTH characters; a missing or empty name is `unknown`.
 * The kept names are those of this process since it started (each worker keeps its own).
 * @throws RangeError when `cap` is not a whole number from 0 to 100000.
 */
export class CappedLabel {
  private readonly kept = new Set<string>();

  constructor(readonly cap: number = DEFAULT_LABEL_CAP) {
    if (!Number.isInteger(cap) || cap < 0 || cap > 100_000) throw new RangeError(`label cap must be a whole number from 0 to 100000, got ${cap}`);
  }

  /** The label value to count `name` under. */
  value(name: string | null | undefined): string {
    const v = (name ?? '').trim().toLowerCase().slice(0, MAX_LABEL_LENGTH);
    if (v === '' || v === UNKNOWN) return UNKNOWN;
    if (v === OTHER || this.kept.has(v)) return v;
    if (this.kept.size >= this.cap) return OTHER;
    this.kept.add(v);
    return v;
  }

  /** How many distinct names are kept (at most `cap`). */
  get size(): number {
    return this.kept.size;
  }
}
