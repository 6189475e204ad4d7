/**
 * Session lines: the lines whose meaning never depends on the lines before them, and which are
 * all that changes the session part of the debugger context (mode, effective machine, implicit
 * process and thread, the command being read and the process it names, the user-mode process and
 * thread number).
 *
 *  - a prompt, or a command pasted without one (`!process 0 0`, `.thread /w X`): a new command's
 *    output begins;
 *  - a `PROCESS` header: a new process block begins;
 *  - a user-mode `~` thread header or `|` process line;
 *  - `Implicit process is now X`, `Effective machine: …`, `Searching for Process with Cid == X`.
 *
 * The parser reads them before anything else on a line (a prompt ends a stack even inside a `kP`
 * parameter list; a `~` header is not a detail line of a process block), so a reader that sees
 * only these lines knows the session exactly. That is what lets SegmentCutter give each segment
 * its exact starting context without parsing the transcript (see cutter.ts): it calls the same two
 * functions below on the same lines.
 */
import type { DebuggerContext } from './context';
import {
  isStackCommand,
  matchEffectiveMachine,
  matchImplicit,
  matchProcessHeader,
  matchPrompt,
  matchUserProcessLine,
  matchUserThreadHeader,
  normalizeMachine,
  parseValueArg,
  splitCommand,
  type Prompt,
  type UserThreadHeader,
} from './grammar';
import { canonicalHex, tokens } from './text';

export type SessionLine =
  /** A prompt with its command, or (`unprompted`) a command pasted without its prompt. */
  | { kind: 'command'; prompt: Prompt; unprompted: boolean }
  | { kind: 'process'; address: string }
  | { kind: 'user-thread'; header: UserThreadHeader }
  | { kind: 'user-process'; pid: number; image?: string }
  | { kind: 'implicit'; which: 'process' | 'thread'; address: string }
  | { kind: 'machine'; machine: string }
  /** `pid` null when the Cid cannot be read: the line is still the search's, and changes nothing. */
  | { kind: 'search'; pid: number | null };

/**
 * First characters a session line can start with (after blanks): digits and `k`/`l` (prompts, user
 * lines), `!` `.` `#` (commands, user lines), `P` `I` `E` `S`. A table lookup keeps the test off
 * the parser's hot path for every other line.
 */
const FIRST = new Uint8Array(128);
for (const ch of '0123456789kl!.#PIES') FIRST[ch.charCodeAt(0)] = 1;

/**
 * The session line at `start` of a cleaned line, or null. Context-free by construction: the
 * answer depends on the line alone. `mode` is the mode in force, which a pasted command inherits.
 * `view`, `base`: the line's bytes, when the caller has them (see lineBytes).
 */
export function matchSessionLine(
  text: string,
  start: number,
  mode: 'kernel' | 'user' | null,
  machine: string | null,
  view?: Uint8Array,
  base = 0,
): SessionLine | null {
  const c = text.charCodeAt(start);
  if (c >= 128 || FIRST[c] === 0) return null;
  switch (c) {
    case 33: // !  a command pasted without its prompt
      return { kind: 'command', prompt: { command: text.slice(start), machine, mode: mode ?? 'kernel' }, unprompted: true };
    case 46: // .
      if (text.startsWith('.process', start) || text.startsWith('.thread', start) || text.startsWith('.effmach', start) || text.startsWith('.cxr', start)) {
        return { kind: 'command', prompt: { command: text.slice(start), machine, mode: mode ?? 'kernel' }, unprompted: true };
      }
      return userLine(text, start);
    case 35: // #
      return userLine(text, start);
    case 80: {
      // P
      const address = matchProcessHeader(text, start, view, base);
      return address === null ? null : { kind: 'process', address };
    }
    case 73: {
      // I  (`Implicit`; the third letter rules out a listing's `Image:` lines without a call)
      if (text.charCodeAt(start + 2) !== 112) return null;
      const imp = matchImplicit(text, start);
      return imp === null ? null : { kind: 'implicit', which: imp.kind, address: imp.address };
    }
    case 69: {
      // E
      const m = matchEffectiveMachine(text, start);
      return m === null ? null : { kind: 'machine', machine: m };
    }
    case 83: // S  (`Searching`; the third letter rules out a listing's `SessionId:` lines without a call)
      if (text.charCodeAt(start + 2) === 97 && text.startsWith('Searching for Process with Cid == ', start)) {
        const v = parseValueArg(tokens(text, start + 34)[0] ?? '');
        return { kind: 'search', pid: v.hex === null ? null : parseInt(v.hex, 16) };
      }
      return null;
    default: {
      // digits, k, l
      const prompt = matchPrompt(text, start);
      if (prompt !== null) return { kind: 'command', prompt, unprompted: false };
      return c <= 57 ? userLine(text, start) : null;
    }
  }
}

/**
 * `[.#]  0  Id: 1a2c.1a30 …` (a `~` thread) or `[.#]  0  id: 1a2c  attach  name: …` (a `|`
 * process). A positional look for `N  Id:` first: frame lines start with digits too, and the
 * matchers split the line into tokens.
 */
function userLine(text: string, start: number): SessionLine | null {
  let i = start;
  const n = text.length;
  const c = text.charCodeAt(i);
  if (c === 46 || c === 35) i = skipBlanks(text, i + 1);
  const digits = i;
  while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i === digits) return null;
  const gap = i;
  i = skipBlanks(text, i);
  if (i === gap || (text.charCodeAt(i) | 32) !== 105 /* i */ || text.charCodeAt(i + 1) !== 100 /* d */ || text.charCodeAt(i + 2) !== 58 /* : */) return null;
  const header = matchUserThreadHeader(text, start);
  if (header !== null) return { kind: 'user-thread', header };
  const up = matchUserProcessLine(text, start);
  if (up === null) return null;
  const line: SessionLine = { kind: 'user-process', pid: up.pid };
  if (up.image) line.image = up.image.slice(Math.max(up.image.lastIndexOf('\\'), up.image.lastIndexOf('/')) + 1);
  return line;
}

function skipBlanks(text: string, i: number): number {
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  return i;
}

/**
 * What a session line does to the context. The parser does the rest (facts, the stack it ends);
 * SegmentCutter does only this.
 */
export function applySessionLine(ctx: DebuggerContext, line: SessionLine): void {
  switch (line.kind) {
    case 'command':
      applyCommand(ctx, line.prompt, line.unprompted);
      return;
    case 'process':
      ctx.stack = null;
      ctx.thread = null;
      ctx.block = { address: line.address };
      ctx.peb = null;
      return;
    case 'user-thread': {
      const h = line.header;
      ctx.stack = null;
      ctx.block = null;
      ctx.peb = null;
      ctx.mode = 'user';
      ctx.userPid = h.pid;
      ctx.thread = { pid: h.pid, tid: h.tid, index: h.index, expect: 'details' };
      return;
    }
    case 'user-process':
      ctx.userPid = line.pid;
      return;
    case 'implicit':
      if (line.which === 'process') ctx.implicitProcess = line.address;
      else ctx.implicitThread = line.address;
      return;
    case 'machine':
      ctx.machine = line.machine === 'x64' ? null : line.machine;
      return;
    case 'search':
      if (line.pid !== null) ctx.target = { pid: line.pid };
      return;
  }
}

/** A command's output begins: what was open closes, and the command says what comes next. */
function applyCommand(ctx: DebuggerContext, prompt: Prompt, unprompted: boolean): void {
  ctx.stack = null;
  ctx.block = null;
  ctx.thread = null;
  ctx.peb = null;
  ctx.target = null;
  // A `!stacks` table names its image again under each command.
  ctx.listImage = null;
  if (!unprompted) {
    ctx.mode = prompt.mode;
    ctx.machine = prompt.machine ? normalizeMachine(prompt.machine) : null;
    if (ctx.machine === 'x64') ctx.machine = null;
    ctx.userThreadIndex = prompt.threadIndex ?? null;
  }
  const { name, args } = splitCommand(prompt.command);
  ctx.command = name || null;
  switch (name) {
    case '!process':
      ctx.target = processTarget(args);
      break;
    case '.process': {
      const a = lastHexArg(args);
      if (a !== null) ctx.implicitProcess = a;
      break;
    }
    case '.thread': {
      const a = lastHexArg(args);
      if (a !== null) ctx.implicitThread = a;
      break;
    }
    case '.effmach':
      if (args[0] && args[0] !== '.' && args[0] !== '#') {
        const m = normalizeMachine(args[0]);
        ctx.machine = m === 'x64' ? null : m;
      }
      break;
    case '!peb': {
      const a = args.length > 0 ? canonicalHex(args[0]) : null;
      if (a !== null) ctx.peb = a;
      break;
    }
    default:
      if (name.startsWith('~') && name.endsWith('s') && !isStackCommand(name)) {
        const idx = Number(name.slice(1, -1));
        if (Number.isInteger(idx)) ctx.userThreadIndex = idx;
      }
      break;
  }
}

/** `!process 0 0`, `!process fffffa80`75c21b30 ff`, `!process 0n189240`, `!process 2e338`. */
function processTarget(args: string[]): DebuggerContext['target'] {
  if (args.length === 0) return null;
  const v = parseValueArg(args[0]);
  if (v.decimal !== null) return v.decimal !== 0 ? { pid: v.decimal } : null;
  if (v.hex === null || v.hex === '0' || /^f+$/.test(v.hex)) return null; // list, or -1 (current)
  // Short values are Cids; EPROCESS addresses are full pointers.
  return v.hex.length >= 8 ? { processAddress: v.hex } : { pid: parseInt(v.hex, 16) };
}

function lastHexArg(args: string[]): string | null {
  for (let i = args.length - 1; i >= 0; i--) {
    if (args[i].startsWith('/')) continue;
    const v = canonicalHex(args[i]);
    if (v !== null) return v;
  }
  return null;
}
