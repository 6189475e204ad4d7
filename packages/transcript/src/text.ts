/**
 * Low-level text helpers shared by the line reader and the grammar: cleaning pasted lines and
 * reading the debugger's hex and decimal numbers.
 */

// Tags that web pages and blog engines wrap around pasted debugger output. `<Data Not Accessible>`,
// `< Name not readable >` and `<Invalid>` are debugger text, not tags, so only these names are removed.
const HTML_TAG =
  /<\/?(?:span|div|p|br|pre|code|font|b|i|u|s|strong|em|a|tt|li|ul|ol|td|tr|th|table|tbody|thead|hr|sup|sub|small|big|mark|kbd|samp|blockquote|h[1-6]|img|wbr|del|ins)(?:\s[^<>]*)?\/?>/gi;
const ENTITY = /&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});/gi;
const NAMED_ENTITIES: Record<string, string> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  rsquo: "'",
  lsquo: "'",
  rdquo: '"',
  ldquo: '"',
  prime: "'",
  ndash: '-',
  mdash: '-',
  hellip: '...',
};
// Only lines containing one of these need the slow path; most debugger output is plain ASCII.
const NEEDS_CLEANING = /[<&\t\\\u0080-\uffff]/;

const NEEDS_CLEANING_FROM = new RegExp(NEEDS_CLEANING.source, 'g');

/**
 * Where the next character of `text` from `from` is that cleanLine would change (Infinity when
 * none): lines before it need only trimEnd. One native scan through a whole chunk, not one a line.
 */
export function nextCharToClean(text: string, from: number): number {
  NEEDS_CLEANING_FROM.lastIndex = from;
  const m = NEEDS_CLEANING_FROM.exec(text);
  return m === null ? Infinity : m.index;
}
// Markdown escapes in pasted output: fffff800\`4876a8c8, pdfium\_test.
const MARKDOWN_ESCAPE = /\\([`_*])/g;

/**
 * Undoes what web pages and editors do to pasted debugger output: HTML tags and entities,
 * typographic quotes and primes, no-break spaces, tabs. Trailing blanks are removed. Plain ASCII
 * lines take a fast path.
 */
export function cleanLine(line: string): string {
  if (!NEEDS_CLEANING.test(line)) return trimEnd(line);
  let s = line;
  if (s.includes('\\')) s = s.replace(MARKDOWN_ESCAPE, '$1');
  if (s.includes('<')) s = s.replace(HTML_TAG, '');
  if (s.includes('&')) s = s.replace(ENTITY, decodeEntity);
  s = s.replace(/[\t\u00a0\u2000-\u200b\u2018\u2019\u201a\u201b\u2032\u201c\u201d\u201e\u2013\u2014\u2026\ufeff]/g, typographic);
  return trimEnd(s);
}

function decodeEntity(whole: string, body: string): string {
  if (body[0] === '#') {
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    if (!Number.isFinite(code) || code > 0x10ffff) return whole;
    return typographic(String.fromCodePoint(code));
  }
  return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
}

function typographic(ch: string): string {
  switch (ch) {
    case '\t':
      return ' ';
    case '\u2018':
    case '\u2019':
    case '\u201a':
    case '\u201b':
    case '\u2032':
      return "'";
    case '\u201c':
    case '\u201d':
    case '\u201e':
      return '"';
    case '\u2013':
    case '\u2014':
      return '-';
    case '\u2026':
      return '...';
    case '\ufeff':
    case '\u200b':
      return '';
    default:
      return ch.charCodeAt(0) >= 0x2000 && ch.charCodeAt(0) <= 0x200a ? ' ' : ch === '\u00a0' ? ' ' : ch;
  }
}

/** Removes trailing blanks and CRs; returns the same string when there are none. */
export function trimEnd(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 32 && c !== 13 && c !== 9) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

/** Index of the first non-blank character at or after `from`, or the line's length. */
export function skipSpaces(s: string, from = 0): number {
  let i = from;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  return i;
}

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/**
 * Reads a debugger hex value: `fffffa80`75c21b30`, `0x1df598`, `000bf474`. Returns the canonical
 * form (lowercase, no `0x`, no backtick, no leading zeros) or null when the token is not hex.
 */
export function canonicalHex(token: string): string | null {
  let s = 0;
  if (token.length > 2 && token.charCodeAt(0) === 48 && (token.charCodeAt(1) | 32) === 120) s = 2;
  if (s >= token.length) return null;
  let digits = 0;
  for (let i = s; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 96) continue;
    if (!isHexCode(c)) return null;
    digits++;
  }
  return digits === 0 ? null : canonicalHexAt(token, 0, token.length);
}

/**
 * canonicalHex of `s.slice(from, to)`, for a span already known to be hex digits and backticks:
 * no validation, and no allocation beyond the result (the parser calls it for every frame).
 */
/** canonicalHex of `s.slice(from, to)`, slicing only the result. */
export function canonicalHexOf(s: string, from: number, to: number): string | null {
  let p = from;
  if (to - p > 2 && s.charCodeAt(p) === 48 && (s.charCodeAt(p + 1) | 32) === 120) p += 2;
  let digits = 0;
  for (let i = p; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 96) continue;
    if (!isHexCode(c)) return null;
    digits++;
  }
  return digits === 0 ? null : canonicalHexAt(s, from, to);
}

export function canonicalHexAt(s: string, from: number, to: number): string {
  let p = from;
  if (to - p > 2 && s.charCodeAt(p) === 48 && (s.charCodeAt(p + 1) | 32) === 120) p += 2;
  while (p < to) {
    const c = s.charCodeAt(p);
    if (c !== 48 && c !== 96) break;
    p++;
  }
  if (p >= to) return '0';
  let tick = -1;
  let ticks = 0;
  let upper = false;
  for (let k = p; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c === 96) {
      tick = k;
      ticks++;
    } else if (c >= 65 && c <= 70) upper = true;
  }
  let out = tick < 0 ? s.slice(p, to) : ticks === 1 ? s.slice(p, tick) + s.slice(tick + 1, to) : s.slice(p, to).split('`').join('');
  if (upper) out = out.toLowerCase();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Byte views. Reading a character of a string costs several times what reading a byte of a
// Uint8Array does, and the recognisers that run on every line of a process listing read every
// character of it. They read a line's bytes instead: the bytes of the chunk it was decoded from
// when LineReader says they mirror it one for one, else a copy made by lineBytes. Indices into a
// view are the line's indices plus its base, so the strings kept are still sliced from the line.
// ---------------------------------------------------------------------------------------------

let scratch = new Uint8Array(1024);

/**
 * The line's characters as bytes, in a buffer reused by the next call: code units above 255
 * become 255, which no recogniser takes for anything but a character outside ASCII, as it takes
 * the code unit itself.
 */
export function lineBytes(line: string): Uint8Array {
  const n = line.length;
  if (n > scratch.length) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  const b = scratch;
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    b[i] = c > 255 ? 255 : c;
  }
  return b;
}

/** True when every character of the token is a hex digit or a backtick (no `0x`). */
export function isHexToken(token: string): boolean {
  if (token.length === 0) return false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c !== 96 && !isHexCode(c)) return false;
  }
  return true;
}

/** Largest pid or tid accepted; beyond it a value is garbage (hundreds of digits), not an id. */
const MAX_ID = 0xffffffff;

/** Parses a hex id (Cid halves); null when malformed or absurdly large. */
export function parseHexId(token: string): number | null {
  const h = canonicalHex(token);
  if (h === null || h.length > 8) return null;
  const n = parseInt(h, 16);
  return n <= MAX_ID ? n : null;
}

/** Parses a decimal number with an optional trailing dot (`HandleCount:  54.`); null when malformed. */
/** parseHexId of `s.slice(from, to)`, without slicing. */
export function hexIdAt(s: string, from: number, to: number): number | null {
  let p = from;
  if (to - p > 2 && s.charCodeAt(p) === 48 && (s.charCodeAt(p + 1) | 32) === 120) p += 2;
  let digits = 0;
  let significant = 0;
  let n = 0;
  for (let k = p; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c === 96) continue;
    const v = c <= 57 ? c - 48 : (c | 32) - 87;
    if (v < 0 || v > 15 || (c > 57 && (c | 32) < 97)) return null;
    digits++;
    if (n === 0 && v === 0) continue;
    if (++significant > 8) return null;
    n = n * 16 + v;
  }
  return digits === 0 ? null : n;
}

/** parseDecimal of `s.slice(from, to)`, without slicing. */
export function decimalAt(s: string, from: number, to: number): number | null {
  let end = to;
  if (end > from && s.charCodeAt(end - 1) === 46) end--;
  if (end === from || end - from > 15) return null;
  let n = 0;
  for (let i = from; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    n = n * 10 + c;
  }
  return n;
}

export function parseDecimal(token: string): number | null {
  let end = token.length;
  if (end > 0 && token[end - 1] === '.') end--;
  if (end === 0 || end > 15) return null;
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = token.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    n = n * 10 + c;
  }
  return n;
}

/** Splits on runs of blanks, like the debugger's column output. */
export function tokens(s: string, from = 0): string[] {
  const out: string[] = [];
  let i = from;
  const n = s.length;
  while (i < n) {
    while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && s.charCodeAt(i) !== 32 && s.charCodeAt(i) !== 9) i++;
    out.push(s.slice(start, i));
  }
  return out;
}

/**
 * A copy of a string that does not keep alive the text it was sliced from. V8 makes a substring
 * of 13 characters or more a view into its parent, so one address kept from a line would keep the
 * whole decoded chunk (a megabyte) in memory; the facts of a dump keep thousands. Shorter strings
 * are copies already. (Concatenation makes a new string that the slice then flattens into a copy.)
 */
export function own(s: string): string {
  return s.length < 13 ? s : (s + ' ').slice(0, -1);
}

/** Distinct strings intern() keeps; past it, strings are only owned. */
const MAX_INTERNED = 10_000;
const interned = new Map<string, string>();

/**
 * One shared copy of a string that repeats across a dump (thread states, wait reasons and modes,
 * object types, image names): a million threads then hold one `WAIT`, not a million. Bounded:
 * past MAX_INTERNED distinct strings, new ones are only owned (see own).
 */
export function intern(s: string): string {
  const known = interned.get(s);
  if (known !== undefined) return known;
  const mine = own(s);
  if (interned.size < MAX_INTERNED) interned.set(mine, mine);
  return mine;
}

/**
 * prefixMatcher on a line's bytes (see lineBytes): whether the bytes at `at` (before `n`) start
 * with one of the prefixes, which must be ASCII.
 */
export function bytePrefixMatcher(prefixes: readonly string[]): (b: Uint8Array, at: number, n: number) => boolean {
  const byFirst: (Uint8Array[] | undefined)[] = new Array(128).fill(undefined);
  for (const p of prefixes) {
    const bytes = Uint8Array.from(p, (ch) => ch.charCodeAt(0));
    if (bytes.some((c) => c >= 128)) throw new Error(`bytePrefixMatcher: ${p} is not ASCII`);
    (byFirst[bytes[0]] ??= []).push(bytes);
  }
  return (b, at, n) => {
    const c = b[at];
    const candidates = c < 128 ? byFirst[c] : undefined;
    if (candidates === undefined) return false;
    next: for (const p of candidates) {
      if (at + p.length > n) continue;
      for (let k = 1; k < p.length; k++) if (b[at + k] !== p[k]) continue next;
      return true;
    }
    return false;
  };
}

/**
 * A test of whether a line starts (at `start`) with one of `prefixes`, which looks up the few that
 * share its first character instead of trying them all.
 */
export function prefixMatcher(prefixes: readonly string[]): (line: string, start: number) => boolean {
  const byFirst = new Map<number, string[]>();
  for (const p of prefixes) {
    const c = p.charCodeAt(0);
    byFirst.set(c, [...(byFirst.get(c) ?? []), p]);
  }
  return (line, start) => {
    const candidates = byFirst.get(line.charCodeAt(start));
    if (candidates !== undefined) for (const p of candidates) if (line.startsWith(p, start)) return true;
    return false;
  };
}
