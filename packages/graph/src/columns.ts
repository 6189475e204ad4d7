/** What the graph's column tables (threads.ts, stacks.ts) share. */

/** A copy of `a` with room for `capacity` rows. */
export function grown<T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(a: T, capacity: number): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  return b;
}

/**
 * Distinct strings as small numbers, so that a column of them is a typed array: a dump has a few
 * dozen thread states, wait reasons and machines among a million rows. Word 0 is null.
 */
export class Words {
  private readonly words: (string | null)[] = [null];
  private readonly ids = new Map<string, number>();

  /** The number of `s` (0 for null), given one the first time it is seen. */
  id(s: string | null): number {
    if (s === null) return 0;
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.words.length;
      this.words.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  /** The string numbered `id`. */
  at(id: number): string | null {
    return this.words[id];
  }
}
