/**
 * The grammar: every line shape the parser knows, each with a real example, as small recognisers.
 *
 * Recognisers take an already cleaned line (see cleanLine) and the index of its first non-blank
 * character, and return what the line says or null. None of them throws; none runs a regular
 * expression unless the line's first characters already point to its shape, so that the parser's
 * per-line cost stays a few character comparisons for the lines that dominate big transcripts
 * (stack frames and process fields).
 */
import type { Frame, ThreadState, WaitObject } from './facts';
import { canonicalHex, canonicalHexOf, canonicalHexAt, isHexToken, lineBytes, own, parseDecimal, parseHexId, prefixMatcher, tokens } from './text';

// ---------------------------------------------------------------------------------------------
// Prompts
//   `kd> !process 0 0`            `0: kd> k`          `1: kd:x86> k`         `lkd> !thread`
//   `0:000> ~*k`                  `0:001:x86> kv`     `0:000>0: kd> !process 0 0` (glued pastes)
//   `32.kd:x86> t`                `32.0: kd:x86> gn`   (kd in a WOW64 process's 32-bit context)
// ---------------------------------------------------------------------------------------------

export interface Prompt {
  command: string;
  /** Effective machine named in the prompt (`:x86`), else null. */
  machine: string | null;
  mode: 'kernel' | 'user';
  /** `lkd>`: a local kernel session on a live machine. */
  local?: boolean;
  /** `0:004>`: the current thread number in user mode. */
  threadIndex?: number;
}

// `32.` before a kernel prompt: kd in the 32-bit context of a WOW64 process (`32.kd:x86>`, `32.0: kd:x86>`).
const KERNEL_PROMPT = /^(?:\d{1,2}\.)?(?:(\d{1,4}):\s?)?(l?kd)(?::([A-Za-z0-9_]+))?>/;
const USER_PROMPT = /^(\d{1,4}):(\d{1,4})(?::(\d{1,4}))?(?::([A-Za-z][A-Za-z0-9_]*))?>/;

/** Recognises a debugger prompt (possibly several glued together) and the command after it. */
export function matchPrompt(line: string, start: number): Prompt | null {
  const c = line.charCodeAt(start);
  const digit = c >= 48 && c <= 57;
  if (!digit && c !== 107 /* k */ && c !== 108 /* l */) return null;
  if (digit) {
    // A prompt's first run of digits ends in ':'; a frame's or an address's does not.
    let i = start;
    while (i < line.length && i - start < 5 && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i++;
    if (line.charCodeAt(i) === 46 /* . */) {
      // `32.kd:x86>`, `32.0: kd:x86>`: a `N.` prefix, then a kernel prompt.
      i++;
      if (!line.startsWith('kd', i) && !line.startsWith('lkd', i)) {
        const d = i;
        while (i < line.length && i - d < 5 && line.charCodeAt(i) >= 48 && line.charCodeAt(i) <= 57) i++;
        if (i === d || line.charCodeAt(i) !== 58) return null;
      }
    } else if (line.charCodeAt(i) !== 58) return null;
  } else if (!line.startsWith('kd>', start) && !line.startsWith('lkd>', start) && !line.startsWith('kd:', start)) {
    return null;
  }
  let rest = start === 0 ? line : line.slice(start);
  let found: Prompt | null = null;
  for (let guard = 0; guard < 64; guard++) {
    let m = KERNEL_PROMPT.exec(rest);
    if (m) {
      found = { command: '', machine: m[3] ? m[3].toLowerCase() : null, mode: 'kernel', ...(m[2] === 'lkd' ? { local: true } : {}) };
    } else {
      m = USER_PROMPT.exec(rest);
      if (!m) break;
      found = {
        command: '',
        machine: m[4] ? m[4].toLowerCase() : null,
        mode: 'user',
        threadIndex: Number(m[3] ?? m[2]),
      };
    }
    rest = rest.slice(m[0].length).trimStart();
  }
  if (found) found.command = rest.trim();
  return found;
}

/** A typed command split into its name (`!process`, `.thread`, `k`, `~*k`) and arguments. */
export interface Command {
  name: string;
  args: string[];
}

/** Splits a command line; `~*kv` becomes name `~*kv`, `.process /r /p X` name `.process`. */
export function splitCommand(command: string): Command {
  const t = tokens(command);
  if (t.length === 0) return { name: '', args: [] };
  return { name: t[0].toLowerCase(), args: t.slice(1) };
}

/** True for the stack-walking commands: k, kb, kv, kp, kP, kn, kc, kd, ~*k, ~0kb, !uniqstack … */
export function isStackCommand(name: string): boolean {
  let n = name;
  if (n.startsWith('~')) {
    let i = 1;
    while (i < n.length && (n[i] === '*' || n[i] === '#' || n[i] === '.' || (n[i] >= '0' && n[i] <= '9'))) i++;
    n = n.slice(i).trim();
    if (n.startsWith('e')) n = n.slice(1).trim();
  }
  return /^k[bvpPnfcdL]*$/.test(n) || n === 'kpn' || n === 'kvn' || n === 'kbn';
}

/**
 * A debugger value argument: `fffffa80`75c21b30`, `0x1dc`, `0n189240` (decimal). Returns the hex
 * canonical form and, when the debugger's `0n` prefix says decimal, the number.
 */
export function parseValueArg(arg: string): { hex: string | null; decimal: number | null } {
  if (arg.startsWith('0n') || arg.startsWith('0N')) {
    const d = parseDecimal(arg.slice(2));
    return { hex: d === null ? null : d.toString(16), decimal: d };
  }
  return { hex: canonicalHex(arg), decimal: null };
}

// ---------------------------------------------------------------------------------------------
// Process blocks (`!process`)
//   `PROCESS fffffa8058010380`
//   `    SessionId: 2  Cid: 488f0    Peb: 7efdf000  ParentCid: 27cb8`
//   `    DirBase: 25640c000  ObjectTable: fffff8a06cd2ac50  HandleCount:  54.`
//   `    DirBase: 00006e05  ObjectTable: 80a03788  TableSize: 150.`          (NT 4)
//   `    HandleCount: <Data Not Accessible>`
//   `    Image: WerFault.exe`
//   `PROCESS 80a02a60  Cid: 0002    Peb: 00000000  ParentCid: 0000`           (NT 4, one line)
//   `PROCESS` / `89c8a830` / `    SessionId: 0  Cid: 0174 …`                   (wrapped after the keyword)
// ---------------------------------------------------------------------------------------------

/** Fields a PROCESS block prints; undefined when not on this line. */
export interface ProcessFields {
  sessionId?: number | null;
  pid?: number;
  parentPid?: number;
  peb?: string;
  objectTable?: string;
  handleCount?: number | null;
  image?: string;
}

/**
 * `PROCESS fffffa8058010380 …`: the EPROCESS address (a string of its own, see own), or null.
 * `view`: the line's bytes from `base` on (see lineBytes), when the caller has them.
 */
export function matchProcessHeader(line: string, start: number, view?: Uint8Array, base = 0): string | null {
  let b: Uint8Array;
  if (view === undefined) {
    if (!line.startsWith('PROCESS ', start)) return null;
    b = lineBytes(line);
    base = 0;
  } else {
    b = view;
    const p = base + start;
    if (line.length - start < 8 || b[p] !== 80 || b[p + 1] !== 82 || b[p + 2] !== 79 || b[p + 3] !== 67 || b[p + 4] !== 69 || b[p + 5] !== 83 || b[p + 6] !== 83 || b[p + 7] !== 32) return null;
  }
  const n = base + line.length;
  let i = base + start + 8;
  while (i < n && b[i] === 32) i++;
  return i < n ? hexToken(b, i, n, line, base) : null;
}

/**
 * The address line of a PROCESS header wrapped after its keyword (a web page or a narrow
 * terminal broke `PROCESS 89c8a830` in two): one hex token of 8 digits or more, alone.
 *   `PROCESS`
 *   `89c8a830`
 *   `        SessionId: 0  Cid: 0174    Peb: 7ffde000  ParentCid: 0004`
 */
export function matchWrappedProcessAddress(line: string, start: number): string | null {
  const end = tokenEnd(line, start);
  if (end - start < 8 || line.trimEnd().length !== end) return null;
  return canonicalHexOf(line, start, end);
}

/**
 * Reads `Key: value` fields of a process block from one line. Returns null when the line holds
 * none of them. Malformed values are reported through `bad`. A field already set in `into` keeps
 * its value (a block printed twice, or a stray line): the first known value wins, as it does when
 * the graph merges facts (where null means not known), so that where a block was cut into
 * segments does not matter. With a view, `line` is mirrored by it from `base` on, and the line
 * ends at `end` in the view (by default where `line` does): `line` may then be a whole chunk of
 * text and `start` the line's start in it, with `base` 0.
 */
export function scanProcessFields(
  line: string,
  start: number,
  bad?: (field: string) => void,
  into?: ProcessFields,
  view?: Uint8Array,
  base = 0,
  firstKey = -1,
  end?: number,
): ProcessFields | null {
  const c = line.charCodeAt(start);
  // SessionId, Cid, DirBase, Image, HandleCount (Win2000 puts it first), Peb, ParentCid, PROCESS
  if (c !== 83 && c !== 67 && c !== 68 && c !== 73 && c !== 72 && c !== 80 && c !== 79 && c !== 84) return null;
  // This runs on most lines of a process listing: it reads bytes (see lineBytes), tells keys
  // apart by length and first byte, and makes strings only of the values kept.
  let b: Uint8Array;
  if (view === undefined) {
    b = lineBytes(line);
    base = 0;
  } else b = view;
  const n = view === undefined || end === undefined ? base + line.length : end;
  let out: ProcessFields | null = null;
  let i = base + start;
  while (i < n) {
    while (i < n && b[i] === 32) i++;
    if (i >= n) break;
    // The caller may have read the first key already (blockFieldAt).
    const key = firstKey >= 0 ? firstKey : fieldKeyAt(b, i, n);
    firstKey = -1;
    if (key === NO_FIELD) {
      while (i < n && b[i] !== 32) i++;
      continue;
    }
    const ke = i + FIELD_KEY_LENGTH[key];
    let vs = ke;
    while (vs < n && b[vs] === 32) vs++;
    // Each value is read as it is scanned; `stop` is where it ended.
    const has = vs < n;
    stop = vs;
    out ??= into ?? {};
    switch (key) {
      case F_SESSION_ID:
        if (!has) {
          i = ke;
          continue;
        }
        if (vs + 4 <= n && b[vs] === 110 && b[vs + 1] === 111 && b[vs + 2] === 110 && b[vs + 3] === 101 /* none */ && (vs + 4 === n || b[vs + 4] === 32)) {
          stop = vs + 4;
          if (out.sessionId === undefined) out.sessionId = null;
        } else {
          const v = decimalToken(b, vs, n);
          if (v === null) bad?.('SessionId');
          else if (out.sessionId === undefined || out.sessionId === null) out.sessionId = v;
        }
        break;
      case F_CID: {
        const v = has ? hexIdToken(b, vs, n) : null;
        if (v === null) bad?.('Cid');
        else if (out.pid === undefined) out.pid = v;
        break;
      }
      case F_PARENT_CID: {
        const v = has ? hexIdToken(b, vs, n) : null;
        if (v === null) bad?.('ParentCid');
        else if (out.parentPid === undefined) out.parentPid = v;
        break;
      }
      case F_PEB:
        if (!has) break;
        if (out.peb === undefined) {
          const v = hexToken(b, vs, n, line, base);
          if (v !== null) out.peb = v;
        } else skipToken(b, vs, n);
        break;
      case F_OBJECT_TABLE:
        if (!has) break;
        if (out.objectTable === undefined) {
          const v = hexToken(b, vs, n, line, base);
          if (v !== null) out.objectTable = v;
        } else skipToken(b, vs, n);
        break;
      case F_HANDLE_COUNT:
      case F_TABLE_SIZE:
        if (!has) {
          i = ke;
          continue;
        }
        if (b[vs] === 60 /* < */) {
          skipToken(b, vs, n);
          if (out.handleCount === undefined) out.handleCount = null;
        } else {
          const v = decimalToken(b, vs, n);
          if (v === null) bad?.(key === F_HANDLE_COUNT ? 'HandleCount' : 'TableSize');
          else if (out.handleCount === undefined || out.handleCount === null) out.handleCount = v;
        }
        break;
      case F_IMAGE: {
        if (out.image === undefined) {
          const image = trimmedRest(b, ke, n, line, base);
          if (image.length > 0) out.image = image;
        }
        return out;
      }
      default: // DirBase:
        skipToken(b, vs, n);
        break;
    }
    i = stop;
  }
  return out;
}

const NO_FIELD = 0;
const F_SESSION_ID = 1;
const F_CID = 2;
const F_PARENT_CID = 3;
const F_PEB = 4;
const F_OBJECT_TABLE = 5;
const F_HANDLE_COUNT = 6;
const F_TABLE_SIZE = 7;
const F_IMAGE = 8;
const F_DIR_BASE = 9;

/** Each key's length, by field (index NO_FIELD unused). */
const FIELD_KEY_LENGTH: readonly number[] = [0, 10, 4, 10, 4, 12, 12, 10, 6, 8];

/**
 * The process field whose key is the token at `at` (up to a space or `n`), or NO_FIELD: its first
 * byte says which key it can be; the others are compared as constants (this runs on every field).
 */
function fieldKeyAt(b: Uint8Array, at: number, n: number): number {
  switch (b[at]) {
    case 83: // SessionId:
      return (at + 10 === n || (at + 10 < n && b[at + 10] === 32)) && b[at + 1] === 101 && b[at + 2] === 115 && b[at + 3] === 115 && b[at + 4] === 105 && b[at + 5] === 111 && b[at + 6] === 110 && b[at + 7] === 73 && b[at + 8] === 100 && b[at + 9] === 58 ? F_SESSION_ID : NO_FIELD;
    case 67: // Cid:
      return (at + 4 === n || (at + 4 < n && b[at + 4] === 32)) && b[at + 1] === 105 && b[at + 2] === 100 && b[at + 3] === 58 ? F_CID : NO_FIELD;
    case 80: // Peb:, ParentCid:
      if ((at + 4 === n || (at + 4 < n && b[at + 4] === 32)) && b[at + 1] === 101 && b[at + 2] === 98 && b[at + 3] === 58) return F_PEB;
      return (at + 10 === n || (at + 10 < n && b[at + 10] === 32)) && b[at + 1] === 97 && b[at + 2] === 114 && b[at + 3] === 101 && b[at + 4] === 110 && b[at + 5] === 116 && b[at + 6] === 67 && b[at + 7] === 105 && b[at + 8] === 100 && b[at + 9] === 58 ? F_PARENT_CID : NO_FIELD;
    case 68: // DirBase:
      return (at + 8 === n || (at + 8 < n && b[at + 8] === 32)) && b[at + 1] === 105 && b[at + 2] === 114 && b[at + 3] === 66 && b[at + 4] === 97 && b[at + 5] === 115 && b[at + 6] === 101 && b[at + 7] === 58 ? F_DIR_BASE : NO_FIELD;
    case 79: // ObjectTable:
      return (at + 12 === n || (at + 12 < n && b[at + 12] === 32)) && b[at + 1] === 98 && b[at + 2] === 106 && b[at + 3] === 101 && b[at + 4] === 99 && b[at + 5] === 116 && b[at + 6] === 84 && b[at + 7] === 97 && b[at + 8] === 98 && b[at + 9] === 108 && b[at + 10] === 101 && b[at + 11] === 58 ? F_OBJECT_TABLE : NO_FIELD;
    case 72: // HandleCount:
      return (at + 12 === n || (at + 12 < n && b[at + 12] === 32)) && b[at + 1] === 97 && b[at + 2] === 110 && b[at + 3] === 100 && b[at + 4] === 108 && b[at + 5] === 101 && b[at + 6] === 67 && b[at + 7] === 111 && b[at + 8] === 117 && b[at + 9] === 110 && b[at + 10] === 116 && b[at + 11] === 58 ? F_HANDLE_COUNT : NO_FIELD;
    case 84: // TableSize:
      return (at + 10 === n || (at + 10 < n && b[at + 10] === 32)) && b[at + 1] === 97 && b[at + 2] === 98 && b[at + 3] === 108 && b[at + 4] === 101 && b[at + 5] === 83 && b[at + 6] === 105 && b[at + 7] === 122 && b[at + 8] === 101 && b[at + 9] === 58 ? F_TABLE_SIZE : NO_FIELD;
    case 73: // Image:
      return (at + 6 === n || (at + 6 < n && b[at + 6] === 32)) && b[at + 1] === 109 && b[at + 2] === 97 && b[at + 3] === 103 && b[at + 4] === 101 && b[at + 5] === 58 ? F_IMAGE : NO_FIELD;
    default:
      return NO_FIELD;
  }
}

/**
 * When the line at `at` starts with the key of a field that only a process block's field lines
 * begin with (`SessionId:`, `DirBase:`, `HandleCount:`, `Image:`; no session line, no other line a
 * block can hold, starts so), that key for scanProcessFields' `firstKey`; else -1.
 */
export function blockFieldAt(b: Uint8Array, at: number, n: number): number {
  const key = fieldKeyAt(b, at, n);
  return key === F_SESSION_ID || key === F_DIR_BASE || key === F_IMAGE || key === F_HANDLE_COUNT ? key : -1;
}

/** `line.slice(from - base, n - base).trim()`, found on the bytes when what bounds it is ASCII. */
function trimmedRest(b: Uint8Array, from: number, n: number, line: string, base: number): string {
  let s = from;
  let e = n;
  while (s < e && isAsciiSpace(b[s])) s++;
  while (e > s && isAsciiSpace(b[e - 1])) e--;
  // Past ASCII, String.prototype.trim knows more white space (and lineBytes' 255 hides which).
  if (s < e && (b[s] >= 128 || b[e - 1] >= 128)) return line.slice(from - base, n - base).trim();
  return line.slice(s - base, e - base);
}

function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

// Token readers on a line's bytes (see lineBytes): each reads the token at `from` up to a space or
// `n` and leaves in `stop` where it ended.
let stop = 0;

function skipToken(b: Uint8Array, from: number, n: number): void {
  let i = from;
  while (i < n && b[i] !== 32) i++;
  stop = i;
}

// What a byte is to hexToken: one table look-up instead of three range tests a digit.
const HEX_OTHER = 0;
const HEX_ZERO = 1;
const HEX_DIGIT = 2;
const HEX_UPPER = 3;
const HEX_TICK = 4;
const HEX_END = 5;
const HEX_CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  HEX_CLASS[c] =
    c === 48 ? HEX_ZERO : (c >= 49 && c <= 57) || (c >= 97 && c <= 102) ? HEX_DIGIT : c >= 65 && c <= 70 ? HEX_UPPER : c === 96 ? HEX_TICK : c === 32 ? HEX_END : HEX_OTHER;
}

/** The token's `0x` prefix (only before more characters), as canonicalHex reads it: 2, else 0. */
function hexPrefix(b: Uint8Array, from: number, n: number): number {
  return from + 2 < n && b[from] === 48 && (b[from + 1] | 32) === 120 && b[from + 2] !== 32 ? 2 : 0;
}

/**
 * canonicalHex of the token (the bytes from `base` mirror `line`), as a string of its own (see
 * own): one pass finds whether it is hex, where its significant digits start, its backticks and
 * capitals.
 */
function hexToken(b: Uint8Array, from: number, n: number, line: string, base: number): string | null {
  let k = from + hexPrefix(b, from, n);
  let digits = 0;
  let first = -1;
  let tick = -1;
  let ticks = 0;
  let upper = false;
  let hex = true;
  for (; k < n; k++) {
    const t = HEX_CLASS[b[k]];
    if (t === HEX_DIGIT) {
      if (first < 0) first = k;
      digits++;
    } else if (t === HEX_ZERO) digits++;
    else if (t === HEX_END) break;
    else if (t === HEX_TICK) {
      if (first >= 0) {
        tick = k;
        ticks++;
      }
    } else if (t === HEX_UPPER) {
      if (first < 0) first = k;
      upper = true;
      digits++;
    } else {
      hex = false;
      digits++;
    }
  }
  stop = k;
  if (!hex || digits === 0) return null;
  if (first < 0) return '0';
  if (tick < 0 && !upper) return ownedAscii(b, first, k, line, base);
  const f = first - base;
  const t = k - base;
  let out = ticks === 0 ? line.slice(f, t) : ticks === 1 ? line.slice(f, tick - base) + line.slice(tick - base + 1, t) : line.slice(f, t).split('`').join('');
  if (upper) out = out.toLowerCase();
  return own(out);
}

/**
 * `line.slice(from - base, to - base)` as a string of its own (see own), for a span of ASCII
 * bytes: V8 makes a slice of 13 characters or more a view into the line's chunk, and copying it
 * afterwards costs three allocations; an address (13 to 16 digits) is made from its bytes in one.
 */
function ownedAscii(b: Uint8Array, from: number, to: number, line: string, base: number): string {
  const f = from;
  switch (to - from) {
    case 13:
      return String.fromCharCode(b[f], b[f + 1], b[f + 2], b[f + 3], b[f + 4], b[f + 5], b[f + 6], b[f + 7], b[f + 8], b[f + 9], b[f + 10], b[f + 11], b[f + 12]);
    case 14:
      return String.fromCharCode(b[f], b[f + 1], b[f + 2], b[f + 3], b[f + 4], b[f + 5], b[f + 6], b[f + 7], b[f + 8], b[f + 9], b[f + 10], b[f + 11], b[f + 12], b[f + 13]);
    case 15:
      return String.fromCharCode(b[f], b[f + 1], b[f + 2], b[f + 3], b[f + 4], b[f + 5], b[f + 6], b[f + 7], b[f + 8], b[f + 9], b[f + 10], b[f + 11], b[f + 12], b[f + 13], b[f + 14]);
    case 16:
      return String.fromCharCode(b[f], b[f + 1], b[f + 2], b[f + 3], b[f + 4], b[f + 5], b[f + 6], b[f + 7], b[f + 8], b[f + 9], b[f + 10], b[f + 11], b[f + 12], b[f + 13], b[f + 14], b[f + 15]);
    default:
      return own(line.slice(from - base, to - base));
  }
}

/** parseHexId of the token. */
function hexIdToken(b: Uint8Array, from: number, n: number): number | null {
  let k = from + hexPrefix(b, from, n);
  let digits = 0;
  let significant = 0;
  let v = 0;
  let ok = true;
  for (; k < n; k++) {
    const c = b[k];
    if (c === 32) break;
    if (c === 96) continue;
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else {
      ok = false;
      continue;
    }
    digits++;
    if (v === 0 && d === 0) continue;
    if (++significant > 8) ok = false;
    else v = v * 16 + d;
  }
  stop = k;
  return ok && digits > 0 ? v : null;
}

/** parseDecimal of the token (one trailing dot allowed: `HandleCount:  54.`). */
function decimalToken(b: Uint8Array, from: number, n: number): number | null {
  let k = from;
  let v = 0;
  let dot = -1;
  let ok = true;
  for (; k < n; k++) {
    const c = b[k];
    if (c === 32) break;
    if (c >= 48 && c <= 57 && dot < 0) v = v * 10 + (c - 48);
    else if (c === 46 && dot < 0) dot = k;
    else ok = false;
  }
  stop = k;
  const digits = (dot < 0 ? k : k - 1) - from;
  return ok && digits > 0 && digits <= 15 ? v : null;
}

/** Where the token at `from` ends: the next space or the end of the line (lines reach the parser with tabs made spaces). */
function tokenEnd(line: string, from: number): number {
  const space = line.indexOf(' ', from);
  return space < 0 ? line.length : space;
}

// ---------------------------------------------------------------------------------------------
// Threads (`!process … 7/ff`, `!thread`)
//   `THREAD fffffa807c183b60  Cid 2d3c8.4334c  Teb: 000000007efdb000 Win32Thread: fffff900c3f71010 WAIT: (UserRequest) UserMode Non-Alertable`
//   `THREAD fb667780 Cid 2.1 Teb: 00000000 Win32Thread: 80144900 WAIT: (WrFreePage) KernelMode Non-Alertable`
//   `THREAD ffffe001cdeae840  Cid 10f0.0298  Teb: 000000ee6cf97000 Win32Thread: 0000000000000000 RUNNING on processor 2`
//   `THREAD 88b9fcb0  Cid 1548.16e4  Teb: 7ffac000 Win32Thread: fe288838 WAIT:` + next line `(Executive) KernelMode Non-Alertable`
// Wait objects, on the lines under a waiting THREAD:
//   `    fffffa80809c44e0  ProcessObject`     `    ffffe00000cf6870  Semaphore Limit 0xffff`
// ---------------------------------------------------------------------------------------------

export interface ThreadHeader {
  address: string | null;
  pid?: number;
  tid?: number;
  state?: ThreadState;
  waitReason?: string;
  waitMode?: string;
  processor?: number;
  /** `WAIT:` ended the line: the reason is on the next line. */
  waitWrapped: boolean;
}

const THREAD_STATE_LIST: readonly ThreadState[] = ['WAIT', 'RUNNING', 'READY', 'STANDBY', 'TERMINATED', 'TRANSITION', 'DEFERREDREADY', 'GATEWAIT', 'INITIALIZED'];

/** Token spans of the line being read by matchThreadHeader: start and end of each, in pairs (grown when a line has more). */
let spans = new Int32Array(64);

/** Splits b[from, n) at spaces and tabs as tokens() does, into `spans`; returns how many tokens. */
function spansOf(b: Uint8Array, from: number, n: number): number {
  let count = 0;
  let i = from;
  while (i < n) {
    while (i < n && (b[i] === 32 || b[i] === 9)) i++;
    if (i >= n) break;
    const s = i;
    while (i < n && b[i] !== 32 && b[i] !== 9) i++;
    if (2 * count + 2 > spans.length) {
      const grown = new Int32Array(spans.length * 2);
      grown.set(spans);
      spans = grown;
    }
    spans[2 * count] = s;
    spans[2 * count + 1] = i;
    count++;
  }
  return count;
}

/** Whether b[s, e) is the ASCII text `word`. */
function bytesAre(b: Uint8Array, s: number, e: number, word: string): boolean {
  if (e - s !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[s + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** parseHexId of the token b[s, e): canonical hex of at most 8 significant digits, else null. */
function hexIdAt(b: Uint8Array, s: number, e: number): number | null {
  if (e - s > 2 && b[s] === 48 && (b[s + 1] | 32) === 120) s += 2;
  let digits = 0;
  let significant = 0;
  let v = 0;
  for (let k = s; k < e; k++) {
    const c = b[k];
    if (c === 96) continue;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return null;
    digits++;
    if (significant > 0 || d > 0) {
      significant++;
      v = v * 16 + d;
    }
  }
  if (digits === 0 || significant > 8) return null;
  return v;
}

/** parseDecimal of the token b[s, e). */
function decimalAt(b: Uint8Array, s: number, e: number): number | null {
  if (e > s && b[e - 1] === 46) e--;
  if (e === s || e - s > 15) return null;
  let v = 0;
  for (let k = s; k < e; k++) {
    const d = b[k] - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
  }
  return v;
}

/**
 * `THREAD <addr> Cid <pid>.<tid> … <state>`, or null. Reads the line's bytes (`view` from `base`
 * on, else lineBytes' copy), as tokens() would split it; strings only for the address and the
 * wait reason (states and modes are the constants).
 */
export function matchThreadHeader(line: string, start: number, view?: Uint8Array, base = 0): ThreadHeader | null {
  let b: Uint8Array;
  if (view === undefined) {
    if (!line.startsWith('THREAD ', start)) return null;
    b = lineBytes(line);
    base = 0;
  } else b = view;
  const n = base + line.length;
  const p = base + start;
  if (n - p < 7 || b[p] !== 84 || b[p + 1] !== 72 || b[p + 2] !== 82 || b[p + 3] !== 69 || b[p + 4] !== 65 || b[p + 5] !== 68 || b[p + 6] !== 32) return null;
  const count = spansOf(b, p + 7, n);
  if (count === 0) return null;
  const t = spans;
  const out: ThreadHeader = { address: hexToken(b, t[0], t[1], line, base), waitWrapped: false };
  for (let i = 1; i < count; i++) {
    const s = t[2 * i];
    const e = t[2 * i + 1];
    if (e - s === 3 && b[s] === 67 && b[s + 1] === 105 && b[s + 2] === 100 && i + 1 < count) {
      // `Cid 2d3c8.4334c`
      const cs = t[2 * i + 2];
      const ce = t[2 * i + 3];
      let dot = cs;
      while (dot < ce && b[dot] !== 46) dot++;
      if (dot > cs && dot < ce) {
        const pid = hexIdAt(b, cs, dot);
        const tid = hexIdAt(b, dot + 1, ce);
        if (pid !== null && tid !== null) {
          out.pid = pid;
          out.tid = tid;
        }
      }
      i++;
      continue;
    }
    const colon = b[e - 1] === 58;
    const state = threadStateAt(b, s, colon ? e - 1 : e);
    if (state === null) continue;
    out.state = state;
    if (state === 'WAIT') {
      if (i + 1 >= count) out.waitWrapped = colon;
      else {
        // readWaitReason: `(UserRequest) UserMode Non-Alertable`
        const rs = t[2 * i + 2];
        const re = t[2 * i + 3];
        if (b[rs] === 40) {
          const end = b[re - 1] === 41 && re - 1 > rs ? re - 1 : re;
          if (end > rs + 1) out.waitReason = line.slice(rs + 1 - base, end - base);
          if (i + 2 < count) {
            const ms = t[2 * i + 4];
            const me = t[2 * i + 5];
            if (bytesAre(b, ms, me, 'UserMode')) out.waitMode = 'UserMode';
            else if (bytesAre(b, ms, me, 'KernelMode')) out.waitMode = 'KernelMode';
          }
        }
      }
    } else if (i + 2 < count && bytesAre(b, t[2 * i + 2], t[2 * i + 3], 'on') && bytesAre(b, t[2 * i + 4], t[2 * i + 5], 'processor')) {
      // `RUNNING on processor 2`
      if (i + 3 < count) {
        const v = decimalAt(b, t[2 * i + 6], t[2 * i + 7]);
        if (v !== null) out.processor = v;
      }
    }
    break;
  }
  return out;
}

/** The THREAD_STATES word that b[s, e) is, or null. */
function threadStateAt(b: Uint8Array, s: number, e: number): ThreadState | null {
  const len = e - s;
  if (len < 4 || len > 13) return null;
  for (const word of THREAD_STATE_LIST) if (bytesAre(b, s, e, word)) return word;
  return null;
}

/** Completes a wait state from `(Reason) Mode Alertability` tokens. */
export function readWaitReason(t: string[], from: number, into: { waitReason?: string; waitMode?: string }): boolean {
  const r = t[from];
  if (r === undefined || r[0] !== '(') return false;
  const reason = r.slice(1, r.endsWith(')') ? -1 : undefined);
  if (reason.length > 0) into.waitReason = reason;
  const mode = t[from + 1];
  if (mode === 'UserMode' || mode === 'KernelMode') into.waitMode = mode;
  return true;
}

/** `2d3c8.4334c` → pid and tid, or null. */
export function parseCid(token: string): { pid: number; tid: number } | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const pid = parseHexId(token.slice(0, dot));
  const tid = parseHexId(token.slice(dot + 1));
  return pid === null || tid === null ? null : { pid, tid };
}

/** `fffffa80809c44e0  ProcessObject` under a waiting THREAD, or null. */
export function matchWaitObject(line: string, start: number): WaitObject | null {
  // Most lines it sees are not wait objects: the first character rules them out.
  const c0 = line.charCodeAt(start);
  if (!((c0 >= 48 && c0 <= 57) || (c0 >= 97 && c0 <= 102) || (c0 >= 65 && c0 <= 70))) return null;
  const e0 = tokenEnd(line, start);
  if (e0 - start < 8) return null;
  for (let i = start + 1; i < e0; i++) {
    const h = line.charCodeAt(i);
    if (h !== 96 && !((h >= 48 && h <= 57) || (h >= 97 && h <= 102) || (h >= 65 && h <= 70))) return null;
  }
  let s1 = e0;
  while (s1 < line.length && line.charCodeAt(s1) === 32) s1++;
  const e1 = tokenEnd(line, s1);
  if (e1 === s1) return null;
  const c = line.charCodeAt(s1);
  if (c < 65 || c > 90) return null;
  for (let i = s1 + 1; i < e1; i++) {
    const l = line.charCodeAt(i) | 32;
    if (l < 97 || l > 122) return null;
  }
  return { address: canonicalHexAt(line, start, e0), type: line.slice(s1, e1) };
}

/** `Owning Process            ffffe001d147c840       Image:         audiodg.exe` (bytes as matchThreadHeader reads them). */
export function matchOwningProcess(line: string, start: number, view?: Uint8Array, base = 0): { address: string; image?: string } | null {
  if (!line.startsWith('Owning Process', start)) return null;
  const b = view === undefined ? lineBytes(line) : view;
  if (view === undefined) base = 0;
  const n = base + line.length;
  let s = base + start + 14;
  while (s < n && (b[s] === 32 || b[s] === 9)) s++;
  if (s >= n) return null;
  let e = s;
  while (e < n && b[e] !== 32 && b[e] !== 9) e++;
  const address = hexToken(b, s, e, line, base);
  if (address === null) return null;
  const at = line.indexOf('Image:', start);
  const image = at >= 0 ? line.slice(at + 6).trim() : '';
  return image.length > 0 ? { address, image } : { address };
}

// ---------------------------------------------------------------------------------------------
// User-mode listings (cdb, WinDbg on a user dump or a live process)
//   `.  0  Id: 1dc.978 Suspend: 1 Teb: 00000000`7efdb000 Unfrozen`      (`~`, `~*k` headers)
//   `#  1  Id: 1dc.1b0 Suspend: 1 Teb: 7efd8000 Unfrozen`
//   `   0  Id: 722c.206c Suspend: 1 Teb: 0000004e`3b1bc000 Unfrozen "main"`
//   `.  0          id: a4c   examine               name: C:\Windows\System32\net.exe`   (`|`)
// ---------------------------------------------------------------------------------------------

export interface UserThreadHeader {
  index: number;
  pid: number;
  tid: number;
  name?: string;
  current: boolean;
}

/** A `~` thread line, or null. */
export function matchUserThreadHeader(line: string, start: number): UserThreadHeader | null {
  const t = tokens(line, start);
  let i = 0;
  let current = false;
  if (t[0] === '.' || t[0] === '#') {
    current = t[0] === '.';
    i = 1;
  }
  if (t.length < i + 3 || t[i + 1] !== 'Id:') return null;
  const index = parseDecimal(t[i]);
  const cid = parseCid(t[i + 2]);
  if (index === null || cid === null) return null;
  const out: UserThreadHeader = { index, pid: cid.pid, tid: cid.tid, current };
  const q = line.indexOf('"', start);
  if (q >= 0) {
    const end = line.lastIndexOf('"');
    if (end > q) out.name = line.slice(q + 1, end);
  }
  return out;
}

/** A `|` process line, or null. */
export function matchUserProcessLine(line: string, start: number): { pid: number; image?: string } | null {
  const t = tokens(line, start);
  let i = 0;
  if (t[0] === '.' || t[0] === '#') i = 1;
  if (t.length < i + 3 || t[i + 1] !== 'id:' || parseDecimal(t[i]) === null) return null;
  const pid = parseHexId(t[i + 2]);
  if (pid === null) return null;
  const at = line.indexOf('name:', start);
  const name = at >= 0 ? line.slice(at + 5).trim() : '';
  return name ? { pid, image: name } : { pid };
}

// ---------------------------------------------------------------------------------------------
// Stacks
// Headers:
//   `ChildEBP RetAddr`                       `ChildEBP RetAddr  Args to Child`
//   `Child-SP          RetAddr           Call Site`
//   `# Child-SP          RetAddr           Call Site`                   (kn)
//   `Child-SP          RetAddr           : Args to Child      : Call Site`
//   `# RetAddr           : Args to Child                       : Call Site`   (kb, no Child-SP)
// Frames:
//   `000bf5e0 76bd7f63 kernel32!WerpReportFaultInternal+0x186`
//   `fb26ed18 80118efc c0502000 804044b0 00000000 KiSwapThread+0xb5`
//   `001df3b8 77299bca 001df498 00000001 00000001 KERNEL32!WerpReportFaultInternal+0x186 (FPO: [Non-Fpo])`
//   `8b487d44 779b5e74 041cf1f8 00100000 041cf1bc nt!KiFastCallEntry+0x12a (FPO: [0,3] TrapFrame @ 8b487d64)`
//   `00 00000000`0010f8b8 000007fe`fd6e10ac ntdll!ZwWaitForSingleObject+0xa`
//   `ffffc10f`7221f0a0 fffff807`1e2349c0     : ffffb000`adde7180 … : nt!KiSwapContext+0x76`
//   `00 fffff800`7a0fa607 : ffffe001`d1182000 … : tabletaudiosample!CMiniportWaveRT::NewStream+0x1dc [c:\…\minwavert.cpp @ 597]`
//   `0d (Inline Function) --------`--------     stack_overflow!invoke_main+0x22 [D:\…\exe_common.inl @ 78]`
//   `(Inline) -------- -------- -------- -------- fastapp!std::_Destroy_in_place+0xb [D:\…\xmemory @ 311]`   (kv, kb)
//   `04 (Inline) -------- -------- -------- -------- SetEnhMetaFileBits!invoke_main+0x1c (Inline Function @ 009c12cb) (CONV: cdecl)`   (kvn)
//   `000bfb00 77629ef2 0xbf7c0`                 `0008f5b0 775b2ace : … : ntdll! ?? ::FNODOBFM::`string'+0x2af20`
// Inside a stack, and not ending it:
//   `WARNING: Frame IP not in any known module. Following frames may be wrong.`   `...`
//   `WARNING: Stack unwind information not available. Following frames may be wrong.`
//   `Unable to load image C:\Program Files (x86)\fastapp\fastapp.exe, Win32 error 0n2`    (the symbol loader, mid-stack)
//   `*** WARNING: Unable to verify timestamp for e22w7x64.sys`   `*** ERROR: Module load completed but symbols could not be loaded for e22w7x64.sys`
//   `ERROR: Symbol file could not be found.  Defaulted to export symbols for ntdll.dll - `
//   `    [c:\users\…\crashonserver.cpp @ 13]` (source line wrapped onto its own line)
// ---------------------------------------------------------------------------------------------

export interface StackLayout {
  numbered: boolean;
  /** `!stacks 2`: frames are bare call sites, one per line, under a thread's row. */
  callSiteOnly?: boolean;
  /** The first value column is the frame pointer (ChildEBP / Child-SP). */
  frameAddress: boolean;
}

/** A stack header line, or null. */
export function matchStackHeader(line: string, start: number): StackLayout | null {
  let i = start;
  let numbered = false;
  if (line.charCodeAt(i) === 35 /* # */) {
    numbered = true;
    i++;
    while (line.charCodeAt(i) === 32) i++;
  }
  if (line.startsWith('ChildEBP', i) || line.startsWith('Child-SP', i)) return { numbered, frameAddress: true };
  if (line.startsWith('RetAddr', i)) return { numbered, frameAddress: false };
  return null;
}

/**
 * Where the parts of a frame line are, as scanFrameColumns found them. One instance, reused: the
 * column scan is the hottest loop of the parser and must not allocate.
 */
const scan = {
  number: -1,
  values: 0,
  v0s: -1,
  v0e: -1,
  v0w: 0,
  v1s: -1,
  v1e: -1,
  v1w: 0,
  inline: false,
  /** Start and end of the call site (before any suffix). */
  callStart: 0,
  callEnd: 0,
};

/** Hex digits and the backtick of 64-bit values (`fffff880\`0a2b3c40`): 1 hex, 2 backtick, 0 anything else. */
const FRAME_HEX = new Uint8Array(256);
for (const ch of '0123456789abcdefABCDEF') FRAME_HEX[ch.charCodeAt(0)] = 1;
FRAME_HEX[96] = 2;

/**
 * Scans a line's value columns by position and finds its call site; false when the line cannot be
 * a frame. Fills `scan` (with the line's indices); slices nothing. Reads the line's bytes (`view`
 * from `base` on, else a copy by lineBytes): this is the loop that reads every character of every
 * frame line.
 */
function scanFrameColumns(line: string, start: number, layout: StackLayout | null, view?: Uint8Array, base = 0): boolean {
  let b: Uint8Array;
  if (view === undefined) {
    b = lineBytes(line);
    base = 0;
  } else b = view;
  const n = base + line.length;
  let i = base + start;
  let number = -1;
  let values = 0;
  let inline = false;
  let first = true;
  while (i < n) {
    const s = i;
    let hex = true;
    let ticks = 0;
    // A token that is not hex ends the columns (the call site starts there) unless it starts as
    // the few that do not (`:`, `(T)`, `(Inline…`, `--------`): it need not be read to its end.
    const c0 = b[s];
    const special = c0 === 58 || c0 === 40 || c0 === 45;
    while (i < n) {
      const c = b[i];
      if (c === 32) break;
      const k = FRAME_HEX[c];
      if (k === 2) ticks++;
      else if (k === 0) {
        hex = false;
        if (!special) break;
      }
      i++;
    }
    if (!hex && !special) {
      i = s;
      break;
    }
    const e = i;
    while (i < n && b[i] === 32) i++;
    const len = e - s;
    if (len === 1 && c0 === 58) continue; // `:` column separator
    if (c0 === 40 /* ( */) {
      if (len === 3 && b[s + 1] === 84 && b[s + 2] === 41) continue; // `(T)`: a trap frame (mex, kd)
      if (len === 7 && line.startsWith('(Inline', s - base) && line.startsWith('Function)', i - base)) {
        inline = true;
        i += 9;
        while (i < n && b[i] === 32) i++;
        continue;
      }
      if (len === 8 && line.startsWith('(Inline)', s - base)) {
        // `kv`/`kb` print an inline frame as `(Inline) -------- -------- -------- --------`.
        inline = true;
        continue;
      }
    }
    if (inline && values === 0 && c0 === 45 /* - */) continue; // `--------`--------`
    if (hex) {
      if (first && len <= 4 && (layout ? layout.numbered : looksNumbered(line, i - base))) {
        number = parseInt(line.slice(s - base, e - base), 16);
      } else {
        if (values === 0) {
          scan.v0s = s - base;
          scan.v0e = e - base;
          scan.v0w = len - ticks;
        } else if (values === 1) {
          scan.v1s = s - base;
          scan.v1e = e - base;
          scan.v1w = len - ticks;
        }
        values++;
      }
      first = false;
      continue;
    }
    i = s;
    break;
  }
  if (i >= n) return false;
  if (values === 0 && !inline) return false;
  if (layout === null && (values < 2 || scan.v0w < 8 || scan.v1w < 8)) return false;
  // The call site ends at a suffix: ` (FPO:`, ` (TrapFrame`, ` (CONV:`, ` (Inline Function @ addr)`, ` [source @ line]`, or
  // two blanks before an author's comment.
  let end = n;
  for (let j = i; j < n; j++) {
    if (b[j] !== 32) continue;
    const next = j + 1 < n ? b[j + 1] : -1;
    if (next === 32 || next === 91 || (next === 40 && callSiteSuffix(line, j + 1 - base))) {
      end = j;
      break;
    }
  }
  if (end === i) return false;
  scan.number = number;
  scan.values = values;
  scan.inline = inline;
  scan.callStart = i - base;
  scan.callEnd = end - base;
  return true;
}

function callSiteSuffix(line: string, at: number): boolean {
  return line.startsWith('(FPO:', at) || line.startsWith('(TrapFrame', at) || line.startsWith('(CONV:', at) || line.startsWith('(Inline Function @', at);
}

/**
 * How many frames a line of an open stack holds, without building them: 0 when the line is not a
 * frame (it ends the stack, or is one of the lines a stack may hold besides frames), 1, or 2 when
 * two frames were glued onto one line. `lastOpensParameters` then says whether the line's last
 * frame opens a `kP` parameter list that runs over the next lines. Exactly the frames that
 * readStackFrames builds from the same line (a test holds them to it).
 */
export function countFrameLine(line: string, start: number, layout: StackLayout, view?: Uint8Array, base = 0): number {
  if (layout.callSiteOnly) {
    const f = callSiteOnlyFrame(line, start, 0);
    frameCount.lastOpensParameters = f !== null && f.callSite.endsWith('(');
    frameCount.inline = false;
    return f === null ? 0 : 1;
  }
  if (!scanFrameColumns(line, start, layout, view, base)) return 0;
  const { callStart, callEnd } = scan;
  frameCount.inline = scan.inline;
  const space = line.indexOf(' ', callStart);
  if (space >= 0 && space < callEnd && line.charCodeAt(callStart) !== 40) {
    // Perhaps two frames glued into one line (rare): build them to know.
    const frame = parseFrame(line, start, layout, 0, view, base);
    if (frame === null) return 0;
    if (frame.glued === undefined) {
      frameCount.lastOpensParameters = frame.callSite.endsWith('(');
      return 1;
    }
    const second = parseFrame(frame.glued, 0, layout, 0);
    frameCount.lastOpensParameters = (second ?? frame).callSite.endsWith('(');
    return second === null ? 1 : 2;
  }
  frameCount.lastOpensParameters = line.charCodeAt(callEnd - 1) === 40;
  return 1;
}

/** What countFrameLine says besides the count (one instance, overwritten by each call). */
export const frameCount = { lastOpensParameters: false, inline: false };

/**
 * Parses a frame line. With a layout (after a stack header) any line of values and a call site
 * is a frame; without one (a pasted stack with its header cut off) the line must look
 * unmistakably like a frame: two full-width values and a symbol-like call site.
 */
export function parseFrame(line: string, start: number, layout: StackLayout | null, lineNo: number, view?: Uint8Array, base = 0): Frame | null {
  if (layout?.callSiteOnly) return callSiteOnlyFrame(line, start, lineNo);
  if (!scanFrameColumns(line, start, layout, view, base)) return null;
  const { values, v0s, v0e, v1s, v1e, inline, callStart, callEnd: end } = scan;
  const n = line.length;
  let callSite = line.slice(callStart, end);
  let glued: string | undefined;
  const space = callSite.indexOf(' ');
  if (space > 0 && callSite.charCodeAt(0) !== 40) {
    const split = splitGlued(callSite, space, values);
    if (split) [callSite, glued] = split;
  }
  if (layout === null && !looksLikeCallSite(callSite)) return null;

  let frameAddress: string | null = null;
  let returnAddress: string | null = null;
  if (inline) {
    // `(Inline Function) --------`--------`: no frame of its own.
  } else if (layout ? layout.frameAddress : values >= 2) {
    frameAddress = canonicalHexAt(line, v0s, v0e);
    returnAddress = values > 1 ? canonicalHexAt(line, v1s, v1e) : null;
  } else {
    returnAddress = canonicalHexAt(line, v0s, v0e);
  }
  const frame: Frame = {
    module: null,
    function: null,
    offset: null,
    returnAddress,
    frameAddress,
    callSite,
    raw: line,
    line: lineNo,
  };
  if (scan.number >= 0) frame.number = scan.number;
  if (inline) frame.inline = true;
  if (glued !== undefined) frame.glued = glued;
  splitCallSite(callSite, frame);
  if (end < n && line.charCodeAt(end + 1) === 91) {
    const close = line.indexOf(']', end);
    if (close > end) frame.source = line.slice(end + 2, close);
  } else if (end < n) {
    const src = line.indexOf(' [', end);
    if (src >= 0) {
      const close = line.indexOf(']', src);
      if (close > src) frame.source = line.slice(src + 2, close);
    }
  }
  return frame;
}

/**
 * Two frame lines glued into one (a lost newline in a pasted STACK_TEXT):
 * `… nt!PspSystemThreadStartup+0x300000000 00000000 00000000 00000000 00000000 nt!KiThreadStartup+0x16`.
 * When the rest after the first call site is values and another call site, the line holds two
 * frames; a value missing from the second was glued onto the first's offset, and goes back.
 */
function splitGlued(callSite: string, space: number, valueCount: number): [string, string] | null {
  const t = callSite.slice(space + 1).split(' ');
  if (t.length < 2) return null;
  let k = 0;
  while (k < t.length - 1 && isHexToken(t[k]) && hexWidth(t[k]) >= 8) k++;
  if (k === 0 || k !== t.length - 1 || !looksLikeCallSite(t[k])) return null;
  let first = callSite.slice(0, space);
  let rest = t.join(' ');
  const plus = first.lastIndexOf('+0x');
  const width = hexWidth(t[0]);
  if (k + 1 === valueCount && plus > 0 && first.length - plus - 3 > width) {
    rest = `${first.slice(first.length - width)} ${rest}`;
    first = first.slice(0, first.length - width);
  }
  return [first, rest];
}

/** A `!stacks 2` frame: nothing but a call site on the line. */
function callSiteOnlyFrame(line: string, start: number, lineNo: number): Frame | null {
  const cs = line.slice(start).trim();
  if (cs.length === 0 || cs.indexOf(' ') >= 0 || !(looksLikeCallSite(cs) || cs.startsWith('+0x'))) return null;
  const frame: Frame = { module: null, function: null, offset: null, returnAddress: null, frameAddress: null, callSite: cs, raw: line.slice(start), line: lineNo };
  splitCallSite(cs, frame);
  return frame;
}

/**
 * `kP` prints each frame's parameters, over several lines when long:
 * `mod!Heap::MarkCompact(` / `\t\t\tclass GCTracer * tracer = 0x00000000)+0x6d [heap.cc @ 734]`.
 * Returns the call site without the parameter list, given the frame's text so far and a line.
 * `done` is false while the list goes on.
 */
export function closeParameterList(open: string, line: string): { callSite: string; done: boolean } {
  const close = line.lastIndexOf(')');
  if (close < 0 || line.trimEnd().endsWith(',')) return { callSite: open, done: false };
  const after = line.slice(close + 1).trim();
  if (after.length > 0 && !after.startsWith('+0x') && !after.startsWith('[')) return { callSite: open, done: false };
  const offset = after.startsWith('+0x') ? after.split(' ')[0] : '';
  return { callSite: `${open.replace(/\($/, '')}${offset}`, done: true };
}

/** `mod!func(int a = 1)+0x4f` → `mod!func+0x4f`, for `kP` frames printed on one line. */
export function dropParameterList(callSite: string): string {
  const plus = callSite.lastIndexOf('+0x');
  const end = plus > 0 ? plus : callSite.length;
  if (callSite.charCodeAt(end - 1) !== 41 /* ) */) return callSite;
  let depth = 0;
  for (let i = end - 1; i >= 0; i--) {
    const c = callSite[i];
    if (c === ')') depth++;
    else if (c === '(' && --depth === 0) return callSite.slice(0, i) + callSite.slice(end);
  }
  return callSite;
}

function hexWidth(tok: string): number {
  return tok.indexOf('`') >= 0 ? tok.length - 1 : tok.length;
}

/** Without a header, a short first hex token followed by a full-width value is a frame number. */
function looksNumbered(line: string, next: number): boolean {
  let j = next;
  while (j < line.length && line.charCodeAt(j) !== 32) j++;
  return j - next >= 8;
}

function looksLikeCallSite(cs: string): boolean {
  return cs.indexOf('!') > 0 || cs.indexOf('+0x') > 0 || cs.startsWith('0x');
}

/** `kernel32!WerpReportFaultInternal+0x186` → module, function, offset; `0xbf7c0` → bare address. */
function splitCallSite(cs: string, frame: Frame): void {
  if (cs.startsWith('0x') && isHexToken(cs.slice(2))) return;
  const bang = cs.indexOf('!');
  let rest = cs;
  if (bang > 0) {
    frame.module = cs.slice(0, bang);
    rest = cs.slice(bang + 1);
  }
  const plus = rest.lastIndexOf('+0x');
  if (plus >= 0) {
    frame.offset = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
  }
  if (rest.length === 0) return;
  // Without a `!`, modern debuggers print `module+0xoffset`, or the bare module at offset 0
  // (`PROCMON13`, after `*** ERROR: Module load completed but symbols could not be loaded`);
  // only ancient kd printed bare function names, which are indistinguishable, so the modern
  // reading wins. A name with C++ scope (`::`) or a space is a function, never a module.
  if (bang > 0) frame.function = rest;
  else if (plus >= 0 || (rest.indexOf('::') < 0 && rest.indexOf(' ') < 0)) frame.module = rest;
  else frame.function = rest;
}

// ---------------------------------------------------------------------------------------------
// `!stacks` tables
//   `Proc.Thread  .Thread  ThreadState  Blocker`
//   `                                     [System]`
//   `   4.000008  827d0030  Blocked    ntoskrnl!KiSwapThread+0xc5`
//   `                                  ntoskrnl!KeWaitForMultipleObjects+0x2b4`      (`!stacks 2`)
//   `   4.000014  827cf030  Blocked    Stack paged out`
// ---------------------------------------------------------------------------------------------

export interface StacksRow {
  pid: number;
  tid: number;
  address: string;
  state: string;
  /** The top frame, or null when the stack is paged out. */
  blocker: string | null;
  pagedOut: boolean;
}

/** A row of `!stacks` output, or null. */
export function matchStacksRow(line: string, start: number): StacksRow | null {
  const t = tokens(line, start);
  if (t.length < 4) return null;
  const cid = parseCid(t[0]);
  const address = t[1].length >= 8 ? canonicalHex(t[1]) : null;
  if (cid === null || address === null || !/^[A-Z][a-z]+$/.test(t[2])) return null;
  const rest = t.slice(3).join(' ');
  const pagedOut = rest === 'Stack paged out';
  return { ...cid, address, state: t[2], blocker: pagedOut ? null : t[3], pagedOut };
}

/** `[System]`, `[csrss.exe]`: the process of the `!stacks` rows that follow. */
export function matchStacksProcess(line: string, start: number): string | null {
  if (line.charCodeAt(start) !== 91 /* [ */ || !line.endsWith(']')) return null;
  const name = line.slice(start + 1, -1).trim();
  return name.length > 0 && name.indexOf(' @ ') < 0 ? name : null;
}

// ---------------------------------------------------------------------------------------------
// PEB (`!peb`, `!process … ff`)
//   `PEB at 000007fffffdb000`
//   `    CommandLine:  'C:\Windows\SysWOW64\WerFault.exe -u -p 189240 -s 3888'`
//   `    ImageFile:    'C:\Windows\system32\net.exe'`
// ---------------------------------------------------------------------------------------------

/** `PEB at <addr>` → the PEB address, or null. */
export function matchPebHeader(line: string, start: number): string | null {
  if (!line.startsWith('PEB at ', start)) return null;
  const t = tokens(line, start + 7);
  return t.length > 0 ? canonicalHex(t[0]) : null;
}

/** `CommandLine:  '…'` / `ImageFile:    '…'` → which and the quoted text (quote may be cut off). */
export function matchPebString(line: string, start: number): { key: 'CommandLine' | 'ImageFile'; value: string } | null {
  let key: 'CommandLine' | 'ImageFile';
  if (line.startsWith('CommandLine:', start)) key = 'CommandLine';
  else if (line.startsWith('ImageFile:', start)) key = 'ImageFile';
  else return null;
  let i = start + key.length + 1;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  let value = line.slice(i);
  if (value.startsWith("'")) {
    value = value.slice(1);
    if (value.endsWith("'")) value = value.slice(0, -1);
  }
  return { key, value: value.trim() };
}

/** The image name a command line starts (`"C:\…\cmd.exe" /c` → `cmd.exe`). */
export function imageFromCommandLine(commandLine: string): string | null {
  let s = commandLine.trim();
  let path: string;
  if (s.startsWith('"')) {
    const end = s.indexOf('"', 1);
    path = end > 0 ? s.slice(1, end) : s.slice(1);
  } else {
    const lower = s.toLowerCase();
    const exe = lower.indexOf('.exe');
    path = exe >= 0 ? s.slice(0, exe + 4) : s.split(' ')[0];
  }
  s = path.slice(Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/')) + 1);
  return s.length > 0 ? s : null;
}

// ---------------------------------------------------------------------------------------------
// Context
//   `Implicit process is now fffffa80`75c21b30`     `Implicit thread is now fffffa80`7c183b60`
//   `Effective machine: x86 compatible (x86)`        `Searching for Process with Cid == 2e338`
// ---------------------------------------------------------------------------------------------

/** `Implicit process is now X` / `Implicit thread is now X`. */
export function matchImplicit(line: string, start: number): { kind: 'process' | 'thread'; address: string } | null {
  if (!line.startsWith('Implicit ', start)) return null;
  const t = tokens(line, start);
  if (t.length < 5 || t[2] !== 'is' || t[3] !== 'now') return null;
  const address = canonicalHex(t[4]);
  if (address === null) return null;
  if (t[1] === 'process') return { kind: 'process', address };
  if (t[1] === 'thread') return { kind: 'thread', address };
  return null;
}

/** `Effective machine: x86 compatible (x86)` → `x86`. */
export function matchEffectiveMachine(line: string, start: number): string | null {
  if (!line.startsWith('Effective machine:', start)) return null;
  const open = line.lastIndexOf('(');
  const close = line.lastIndexOf(')');
  if (open > 0 && close > open) return normalizeMachine(line.slice(open + 1, close));
  const t = tokens(line, start + 18);
  return t.length ? normalizeMachine(t[0]) : null;
}

/** Machine names as `.effmach` and prompts spell them → x86, x64, arm64, arm. */
export function normalizeMachine(m: string): string {
  const s = m.toLowerCase();
  if (s === 'amd64' || s === 'x64' || s === 'x86_64') return 'x64';
  if (s === 'i386' || s === 'x86') return 'x86';
  return s;
}

// ---------------------------------------------------------------------------------------------
// Banner (the debugger's opening text, `vertarget`)
//   `Microsoft (R) Windows Debugger Version 10.0.19041.685 AMD64`
//   `Loading Dump File [C:\Windows\MEMORY.DMP]`
//   `Kernel Bitmap Dump File: Kernel address space is available, User address space may not be available.`
//   `User Mini Dump File with Full Memory: Only application data is available`
//   `Windows 7 Kernel Version 7601 (Service Pack 1) MP (4 procs) Free x64`
//   `Windows 10 Version 19045 MP (8 procs) Free x64`
//   `Product: WinNt, suite: TerminalServer SingleUserTS`
//   `Built by: 7601.24545.amd64fre.win7sp1_ldr_escrow.200102-1707`     `Edition build lab: 19041.1.amd64fre.vb_release.191206-1406`
//   `Debug session time: Thu Jan 30 10:11:12.345 2025 (UTC + 1:00)`
//   `System Uptime: 0 days 2:34:56.789`        `Process Uptime: 0 days 0:00:05.000`
//   `Machine Name:`                             `LiveKd v5.63 - Execute kd/windbg on a live system`
// ---------------------------------------------------------------------------------------------

export type BannerField = { field: string; value: string | number };

const OS_LINE =
  /^Windows (.+?) (?:Kernel )?Version (\d+)(?: \(([^)]*)\))?(?: (?:UP|MP)(?: \((\d+) procs?\))?)?(?: (?:Free|Checked))?(?: (\S+))?/;
const BUILD_STRING = /^\d{4,5}\.\d+\.[a-z0-9]+fre\.\S+$/;

/** Reads one banner line into system fields; [] when the line is not a banner line. */
export function matchBanner(line: string, start: number): BannerField[] {
  const c = line.charCodeAt(start);
  const s = start === 0 ? line : line.slice(start);
  switch (c) {
    case 77: // M
      if (s.startsWith('Microsoft (R) Windows Debugger Version ')) {
        const t = tokens(s, 39);
        const out: BannerField[] = [];
        if (t[0]) out.push({ field: 'debuggerVersion', value: t[0] });
        if (t[1]) out.push({ field: 'debuggerArch', value: t[1] });
        return out;
      }
      if (s.startsWith('Machine Name:')) {
        const v = s.slice(13).trim();
        return v ? [{ field: 'machineName', value: v }] : [];
      }
      return [];
    case 76: // L
      if (s.startsWith('Loading Dump File [')) {
        const end = s.lastIndexOf(']');
        return [{ field: 'dumpFile', value: s.slice(19, end > 19 ? end : undefined) }];
      }
      if (s.startsWith('LiveKd v')) return [{ field: 'livekdVersion', value: tokens(s, 8)[0] ?? '' }];
      return [];
    case 75: // K
    case 85: // U
    case 70: {
      // F
      if (s.startsWith('Kernel base = ')) {
        const v = canonicalHex(tokens(s, 14)[0] ?? '');
        return v ? [{ field: 'kernelBase', value: v }] : [];
      }
      if (/^(Kernel|User|Full)[A-Za-z ]*[Dd]ump File/.test(s)) {
        const colon = s.indexOf(':');
        const type = (colon > 0 ? s.slice(0, colon) : s).trim();
        return [
          { field: 'dumpType', value: type },
          { field: 'mode', value: type.startsWith('User') || type.startsWith('Full') ? 'user' : 'kernel' },
        ];
      }
      return [];
    }
    case 87: {
      // W
      const m = OS_LINE.exec(s);
      if (!m) return [];
      const out: BannerField[] = [
        { field: 'os', value: `Windows ${m[1]}` },
        { field: 'osBuild', value: Number(m[2]) },
      ];
      const sp = m[3] ? /Service Pack (\d+)/i.exec(m[3]) : null;
      if (sp) out.push({ field: 'servicePack', value: Number(sp[1]) });
      if (m[4]) out.push({ field: 'processors', value: Number(m[4]) });
      if (m[5]) out.push({ field: 'arch', value: normalizeMachine(m[5]) });
      out.push({ field: 'mode', value: /Kernel Version/.test(s) ? 'kernel' : 'user' });
      return out;
    }
    case 80: // P
      if (s.startsWith('Product: ')) {
        const rest = s.slice(9);
        const comma = rest.indexOf(', suite:');
        if (comma < 0) return [{ field: 'product', value: rest.trim() }];
        return [
          { field: 'product', value: rest.slice(0, comma).trim() },
          { field: 'suite', value: rest.slice(comma + 8).trim() },
        ];
      }
      if (s.startsWith('Process Uptime:')) return [{ field: 'processUptime', value: s.slice(15).trim() }];
      return [];
    case 66: // B
      if (s.startsWith('Built by:')) return [{ field: 'builtBy', value: s.slice(9).trim() }];
      if (s.startsWith('Bugcheck code ')) return [{ field: 'bugcheckCode', value: tokens(s, 14)[0] ?? '' }];
      return [];
    case 67: // C
      if (s.startsWith('Comment: ')) return [{ field: 'comment', value: s.slice(9).trim().replace(/^'(.*)'$/, '$1') }];
      return [];
    case 69: // E
      if (s.startsWith('Edition build lab:')) return [{ field: 'buildLab', value: s.slice(18).trim() }];
      return [];
    case 68: // D
      if (s.startsWith('Debug session time:')) return [{ field: 'sessionTime', value: s.slice(19).trim() }];
      return [];
    case 83: // S
      if (s.startsWith('System Uptime:')) return [{ field: 'systemUptime', value: s.slice(14).trim() }];
      return [];
    default:
      if (c >= 48 && c <= 57 && BUILD_STRING.test(s)) return [{ field: 'buildString', value: s }];
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Known output that holds no fact the graph needs. Recognised only after every other shape has
// failed, so it costs nothing on the lines that dominate big transcripts; a line it knows is not
// counted as "not understood".
//   `!peb`:      `    InheritedAddressSpace:    No`   `    Ldr.InLoadOrderModuleList:           0000027c` …
//                `            Base TimeStamp                     Module`
//                `        7ff6dc6d0000 5e4b6a8b Feb 18 04:48:27 2020 C:\Windows\System32\cmd.exe`
//                `    Environment:  00000229a6f51c30`   `        ALLUSERSPROFILE=C:\ProgramData`   `Unable to read Environment string.`
//   `!teb`:      `TEB at 0000004e3b1bc000`   `    ExceptionList:        0000000000000000`
//   `!process … ff` details outside their block: `    VadRoot fffffa8046c9e2f0 Vads 58 Clone 0 Private 290. Modified 3. Locked 0.`
//                `    ElapsedTime                       00:00:00.015`   `    Token                             fffff8a00bd0d060`
//   loading:     `Loading User Symbols`   `Loading Wow64 Symbols`   `Loading unloaded module list`   `.......................`
//   registers:   `rax=0000000000000000 rbx=000000000026f8a8 rcx=0000000000000000`   `iopl=0         nv up ei pl zr na po nc`
//                `cs=0033  ss=002b  ds=002b  es=002b  fs=0053  gs=002b             efl=00000246`
//   context:     `x86 context set`   `The context is partially valid. Only x86 user-mode context is available.`
// ---------------------------------------------------------------------------------------------

const KNOWN_OUTPUT_PREFIXES = [
  // !peb
  'InheritedAddressSpace:',
  'ReadImageFileExecOptions:',
  'BeingDebugged:',
  'ImageBaseAddress:',
  'NtGlobalFlag:',
  'NtGlobalFlag2:',
  'Ldr ',
  'Ldr.',
  'SubSystemData:',
  'ProcessHeap:',
  'ProcessParameters:',
  'CurrentDirectory:',
  'WindowTitle:',
  'DllPath:',
  'Environment:',
  'Base TimeStamp',
  'Unable to read Environment string',
  'PEB NULL',
  // !teb
  'TEB at ',
  'ExceptionList:',
  'StackBase:',
  'StackLimit:',
  'SubSystemTib:',
  'FiberData:',
  'ArbitraryUserPointer:',
  'Self:',
  'EnvironmentPointer:',
  'ClientId:',
  'RpcHandle:',
  'Tls Storage:',
  'PEB Address:',
  'LastErrorValue:',
  'LastStatusValue:',
  'Count Owned Locks:',
  'HardErrorMode:',
  // !process … ff details printed where no block is open
  'VadRoot ',
  'Token ',
  'ElapsedTime ',
  'UserTime ',
  'KernelTime ',
  'QuotaPoolUsage',
  'Working Set Sizes',
  'PeakWorkingSetSize',
  'VirtualSize ',
  'PeakVirtualSize',
  'PageFaultCount',
  'MemoryPriority',
  'BasePriority',
  'CommitCharge',
  'DebugPort',
  'Job ',
  'DeviceMap ',
  // the debugger loading symbols, and context switches
  'Loading User Symbols',
  'Loading Kernel Symbols',
  'Loading Wow64 Symbols',
  'Loading unloaded module list',
  'x86 context set',
  'The context is partially valid',
  'Unable to load image ',
  'iopl=',
];

const startsWithKnownOutput = prefixMatcher(KNOWN_OUTPUT_PREFIXES);

// `7ff6dc6d0000 5e4b6a8b Feb 18 04:48:27 2020 C:\Windows\System32\cmd.exe` (the PEB's module list)
const MODULE_ROW = /^[0-9a-f`]{8,17} [0-9a-f]{8} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} /;
// `rax=0000000000000000 rbx=…`, `eax=00000000 ebx=…`, `cs=0033  ss=002b …`, `r8=… r9=…`
const REGISTERS = /^[a-z][a-z0-9]{1,3}=[0-9a-f]{4,16}(?: +[a-z][a-z0-9]{1,3}=[0-9a-f]{4,16})+ *$/;
// `ALLUSERSPROFILE=C:\ProgramData`, `=C:=C:\Users\w`: the PEB's environment block
const ENVIRONMENT = /^=?[A-Za-z_(][^=\s]*=/;

/**
 * True for a line of known debugger output that holds no fact (see above); `inPeb` while a `!peb`
 * or a PEB printed by `!process … ff` is being read, where environment lines are expected.
 */
export function isKnownOutput(line: string, start: number, inPeb: boolean): boolean {
  if (startsWithKnownOutput(line, start)) return true;
  const c = line.charCodeAt(start);
  if (c === 46 /* . */) {
    // The symbol loader's progress: a line of dots.
    let i = start;
    while (i < line.length && line.charCodeAt(i) === 46) i++;
    if (i - start >= 3 && line.trimEnd().length === i) return true;
  }
  const s = start === 0 ? line : line.slice(start);
  if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) if (MODULE_ROW.test(s)) return true;
  if (c >= 97 && c <= 122 && s.indexOf('=') > 0 && REGISTERS.test(s)) return true;
  return inPeb && ENVIRONMENT.test(s);
}
