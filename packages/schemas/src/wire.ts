/**
 * How values look on the wire, and the helpers that bring them back to the TypeScript shapes.
 *
 * Encoding passes objects straight to avsc: a TypeScript field that is absent (undefined) takes
 * the Avro default, null. Decoding must undo that, so that an optional field that was absent comes
 * back absent rather than null: every decoder builds a plain object field by field and copies an
 * optional field only when the wire holds a value.
 */
import type { Owner } from '@dumpstream/transcript';

/** A record as avsc decodes it: optional fields come back as null (one level deep). */
export type Wire<T> = { [K in keyof T]-?: undefined extends T[K] ? Exclude<T[K], undefined> | null : T[K] };

/** Keys of T whose field is optional (`k?: …`). */
export type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];

/** Sets each optional field of `into` that is not null on the wire; leaves the others absent. */
export function putPresent<T extends object, K extends OptionalKeys<T>>(into: T, wire: Pick<Wire<T>, K>, keys: readonly K[]): T {
  for (const k of keys) {
    const v = wire[k];
    if (v !== null) into[k] = v as T[K];
  }
  return into;
}

/**
 * The optional keys of T, listed in field order; a list that misses one does not compile, so a
 * field added to a fact type cannot be forgotten by its decoder.
 */
export function optionalKeys<T>() {
  return <const L extends readonly OptionalKeys<T>[]>(
    keys: L & ([Exclude<OptionalKeys<T>, L[number]>] extends [never] ? unknown : { missing: Exclude<OptionalKeys<T>, L[number]> }),
  ): L => keys;
}

const OWNER_KEYS = optionalKeys<Owner>()(['processAddress', 'pid', 'threadAddress', 'tid', 'threadIndex', 'peb']);

/** An Owner from the wire: only the fields the transcript said. */
export function ownerFromWire(w: Wire<Owner>): Owner {
  return putPresent<Owner, OptionalKeys<Owner>>({}, w, OWNER_KEYS);
}
