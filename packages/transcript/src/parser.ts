/**
 * The parser: a one-pass state machine over cleaned lines that turns them into facts.
 *
 * The state that crosses lines is exactly the DebuggerContext, so a parser can start anywhere a
 * segment starts. Dispatch is on a line's first non-blank character; the grammar's recognisers
 * (grammar.ts) then look at a few more characters before doing any real work.
 */
import { cloneContext, type DebuggerContext } from './context';
import { MAX_UNPARSED_SAMPLE, MAX_UNPARSED_TEXT, type CommandLineFact, type Facts, type Owner, type ProcessFact, type StackFact, type ThreadFact, type Warning, type WarningKind } from './facts';
import {
  closeParameterList,
  countFrameLine,
  frameCount,
  imageFromCommandLine,
  matchStacksProcess,
  matchStacksRow,
  isStackCommand,
  matchBanner,
  matchOwningProcess,
  matchPebHeader,
  matchPebString,
  matchStackHeader,
  matchThreadHeader,
  matchWrappedProcessAddress,
  isKnownOutput,
  matchWaitObject,
  parseFrame,
  readWaitReason,
  scanProcessFields,
  blockFieldAt,
  type StackLayout,
  type UserThreadHeader,
} from './grammar';
import { applySessionLine, matchSessionLine, type SessionLine } from './session';
import { layoutFlags } from './stacks';
import { bytePrefixMatcher, intern, own, prefixMatcher, skipSpaces, tokens } from './text';

/** Warnings kept per segment; beyond it they are only counted. */
export const MAX_WARNINGS_PER_SEGMENT = 50;
/** The layout of a stack whose context does not say (frames with a frame pointer, unnumbered). */
const DEFAULT_LAYOUT: StackLayout = { numbered: false, frameAddress: true };
/** Detail lines kept per process block (`ElapsedTime`, `VirtualSize`, …). */
const MAX_DETAILS = 40;

/** Parses lines from a given context; `finish()` returns the facts. Not reusable after finish. */
export class TranscriptParser {
  readonly ctx: DebuggerContext;
  private readonly facts: Facts;
  private proc: ProcessFact | null = null;
  private thread: ThreadFact | null = null;
  private stack: StackFact | null = null;
  /** The open stack's lines, joined into its text when it ends. */
  private stackLines: string[] = [];
  /** How the open stack's frame lines read. */
  private stackLayout: StackLayout = DEFAULT_LAYOUT;
  /** The open stack's last frame opened a `kP` parameter list that runs over the next lines. */
  private parametersOpen = false;
  private warningCount = 0;
  private lineNo = 0;
  private sawPrompt = false;
  private sawLocalPrompt = false;
  private parameterCommandOf: string | null = null;
  private detailCount = 0;
  private parameterCommand = false;
  /** The line of a `PROCESS` keyword printed alone (its address wrapped onto the next line), else 0. */
  private wrappedProcessHeader = 0;
  /** Bytes that mirror the line being read from `viewBase` on (LineBatch.bytes); none when viewBase is -1. */
  private view: Uint8Array | undefined = undefined;
  private viewBase = -1;

  /**
   * `keepUnparsed`: unparsed lines kept with their text in `facts.unparsed` (the rest are only
   * counted); `analyze --unparsed` raises it to list them all. `keepDetails`: a process block's
   * detail lines (`VadRoot …`, `ElapsedTime …`) become `details` in its fact; the process graph
   * never reads them (DumpGraph drops them), so a caller that only builds the graph says false.
   */
  constructor(
    context: DebuggerContext,
    segment: number,
    firstLine: number,
    private readonly keepUnparsed = MAX_UNPARSED_SAMPLE,
    private readonly keepDetails = true,
  ) {
    this.ctx = cloneContext(context);
    this.facts = {
      segment,
      firstLine,
      lineCount: 0,
      unparsedLines: 0,
      warningCount: 0,
      processes: [],
      threads: [],
      stacks: [],
      commandLines: [],
      system: [],
      warnings: [],
    };
    this.resume(firstLine);
  }

  /** Reopens the blocks that the context says were open when the previous segment ended. */
  private resume(line: number): void {
    const { block, thread, stack } = this.ctx;
    if (block) {
      this.proc = { line, source: 'process-block', ...(block.address ? { address: own(block.address) } : {}), ...(block.pid !== undefined ? { pid: block.pid } : {}) };
      this.facts.processes.push(this.proc);
    }
    if (thread) {
      this.thread = { line, waitsOn: [] };
      if (thread.address) this.thread.address = thread.address;
      if (thread.pid !== undefined) this.thread.pid = thread.pid;
      if (thread.tid !== undefined) this.thread.tid = thread.tid;
      if (thread.index !== undefined) this.thread.index = thread.index;
      if (thread.processAddress) this.thread.processAddress = thread.processAddress;
      this.facts.threads.push(this.thread);
    }
    if (stack) {
      this.stackLayout = stack.layout ?? DEFAULT_LAYOUT;
      this.stack = {
        line: stack.line,
        owner: stack.owner,
        machine: stack.machine,
        inBlock: stack.inBlock,
        text: '',
        textLine: line,
        layout: layoutFlags(this.stackLayout, this.isParameterCommand, false),
        frameCount: 0,
        elided: false,
        continuation: true,
      };
      this.facts.stacks.push(this.stack);
    }
  }

  /** Whether the lines so far held anything a debugger prints: a prompt, process, thread, stack, command line. */
  get foundDebuggerOutput(): boolean {
    const f = this.facts;
    return f.processes.length > 0 || f.threads.length > 0 || f.stacks.length > 0 || f.system.length > 0 || f.commandLines.length > 0;
  }

  /**
   * Inside a `kP` frame's parameter list, which the context does not carry: a segment must not
   * start here (the segmenters cut a line later).
   */
  get insideParameterList(): boolean {
    return this.parametersOpen;
  }

  /** Number of warnings raised, including those not kept. */
  get warningsRaised(): number {
    return this.warningCount;
  }

  /** Feeds one cleaned line with its 1-based number in the transcript. */
  line(text: string, lineNo: number): void {
    this.view = undefined;
    this.viewBase = -1;
    this.read(text, lineNo);
  }

  /**
   * line(), with bytes that mirror the line from `base` on (a LineBatch's bytes and offset; base
   * -1 when they do not): the recognisers that read every character read these.
   */
  lineIn(text: string, lineNo: number, bytes: Uint8Array, base: number): void {
    this.view = base < 0 ? undefined : bytes;
    this.viewBase = base;
    this.read(text, lineNo);
  }

  /**
   * A line given as a range of its chunk's decoded text, with bytes that mirror the text (a
   * LineBatch's text, range and bytes): the lines quickLine reads on their bytes (most of a process
   * listing's and of a thread's) are read without a string of their own.
   */
  lineRange(chunk: string, from: number, to: number, lineNo: number, bytes: Uint8Array): void {
    this.view = bytes;
    this.viewBase = from;
    this.lineNo = lineNo;
    this.facts.lineCount++;
    const start = this.quickLine(chunk, 0, from, to);
    if (start >= 0) this.readRest(chunk.slice(from, to), start - from);
  }

  private read(text: string, lineNo: number): void {
    this.lineNo = lineNo;
    this.facts.lineCount++;
    if (this.view !== undefined) {
      const start = this.quickLine(text, this.viewBase, this.viewBase, this.viewBase + text.length);
      if (start >= 0) this.readRest(text, start - this.viewBase);
      return;
    }
    const start = skipSpaces(text);
    if (start >= text.length) this.blank();
    else this.readRest(text, start);
  }

  /**
   * The lines read on bytes alone, view[from] to view[to] (`src` is mirrored by the view from
   * `srcBase` on: view[srcBase + k] is src[k]). Returns -1 when the line is read, else where its
   * first non-blank byte is, for readRest.
   */
  private quickLine(src: string, srcBase: number, from: number, to: number): number {
    const view = this.view!;
    let i = from;
    while (i < to && (view[i] === 32 || view[i] === 9)) i++;
    if (i >= to) {
      this.blank();
      return -1;
    }
    // Most lines of a process listing: a field line of the open block, which no session line, stack
    // or other shape can be (see blockFieldAt), goes straight to the block.
    if (this.stack === null && this.thread === null && this.proc !== null && this.ctx.block !== null && this.wrappedProcessHeader === 0) {
      const key = blockFieldAt(view, i, to);
      if (key >= 0) {
        this.processFields(src, i - srcBase, key, srcBase, to);
        return -1;
      }
    }
    // Most lines under a kernel THREAD: its detail lines (`Not impersonating`, `Wait Start TickCount`,
    // …), which are no session line, stack line or fact (see QUICK_THREAD_DETAILS), read on bytes.
    if (this.thread !== null && this.stack === null && this.wrappedProcessHeader === 0 && this.ctx.command !== '!stacks') {
      const t = this.ctx.thread;
      if (t !== null && quickThreadDetail(view, i, to)) {
        if (t.expect !== 'details') t.expect = 'details';
        return -1;
      }
    }
    return i;
  }

  /** A line that is not blank, from its first non-blank character. */
  private readRest(text: string, start: number): void {
    // Session lines first, wherever they appear: their meaning must not depend on what came before.
    const session = matchSessionLine(text, start, this.ctx.mode, this.ctx.machine, this.view, this.viewBase);
    if (session !== null) {
      this.session(session, text, start);
      return;
    }
    if (this.stack !== null && this.stackLine(text, start)) return;
    if (!this.dispatch(text, start) && !isKnownOutput(text, start, this.ctx.peb !== null)) this.notUnderstood(text);
  }

  /** Counts a line not understood, and keeps it in the sample while there is room. */
  private notUnderstood(text: string): void {
    const f = this.facts;
    f.unparsedLines++;
    if ((f.unparsed?.length ?? 0) >= this.keepUnparsed) return;
    const t = text.trim();
    (f.unparsed ??= []).push({ line: this.lineNo, text: t.length > MAX_UNPARSED_TEXT ? `${t.slice(0, MAX_UNPARSED_TEXT)}…` : t });
  }

  /** Raises a warning about the current line (kept up to a cap, always counted). */
  warn(kind: WarningKind, text: string, line = this.lineNo): void {
    this.warningCount++;
    if (this.facts.warnings.length < MAX_WARNINGS_PER_SEGMENT) this.facts.warnings.push({ line, kind, text } satisfies Warning);
  }

  /** Ends the segment: records what is still open in the context and returns the facts. */
  finish(): { facts: Facts; context: DebuggerContext } {
    if (this.stack) {
      this.closeStackText();
      this.ctx.stack = {
        line: this.stack.line,
        layout: this.ctx.stack?.layout ?? null,
        owner: this.stack.owner,
        inBlock: this.stack.inBlock,
        machine: this.stack.machine,
      };
    }
    const facts = this.facts;
    facts.warningCount = this.warningCount;
    facts.stacks = facts.stacks.filter((s) => s.frameCount > 0 || s.elided || !s.continuation);
    ownStrings(facts);
    return { facts, context: this.ctx };
  }

  // -------------------------------------------------------------------------------------------

  private blank(): void {
    this.endStack();
    if (this.ctx.thread && this.ctx.thread.expect !== 'details') this.ctx.thread.expect = 'details';
  }

  /** Handles a line while a stack is open; false when the line ends the stack. */
  private stackLine(text: string, start: number): boolean {
    const stack = this.stack!;
    if (this.parametersOpen) {
      // `kP`: the parameter list of the last frame runs over this line.
      if (closeParameterList('(', text).done) this.parametersOpen = false;
      this.stackLines.push(text);
      return true;
    }
    const n = countFrameLine(text, start, this.stackLayout, this.view, this.viewBase);
    // A context without the stack's layout (never written by this parser) takes frames with a frame pointer only.
    if (n > 0 && (this.ctx.stack?.layout != null || !frameCount.inline)) {
      stack.frameCount += n;
      this.parametersOpen = frameCount.lastOpensParameters;
      this.stackLines.push(text);
      return true;
    }
    const c = text.charCodeAt(start);
    if ((c === 46 /* . */ && /^\.{3,}$/.test(text.slice(start))) || (c === 0x2026 && text.trim() === '\u2026')) {
      stack.elided = true;
      this.stackLines.push(text);
      return true;
    }
    if (
      (c === 91 /* [ */ && text.indexOf(' @ ', start) > 0) || // wrapped source line
      text.startsWith('WARNING: ', start) ||
      text.startsWith('*** ', start) ||
      // The symbol loader reports a module it cannot load when a frame first needs it; the stack goes on.
      text.startsWith('Unable to load image ', start) ||
      text.startsWith('ERROR: ', start)
    ) {
      this.stackLines.push(text);
      return true;
    }
    if (c === 60 /* < */ && text.endsWith('>')) {
      // `<snip>`, `<Intermediate frames may have been skipped due to lack of complete unwind>`
      if (text.startsWith('<snip>', start)) stack.elided = true;
      this.stackLines.push(text);
      return true;
    }
    this.endStack();
    return false;
  }

  /** `kp`/`kP` print parameter lists inside call sites; the report keeps the call site without them. */
  private get isParameterCommand(): boolean {
    const c = this.ctx.command;
    if (c !== this.parameterCommandOf) {
      this.parameterCommandOf = c;
      this.parameterCommand = c !== null && /^(~[*#.\d]*)?k[a-z]*p/i.test(c) && isStackCommand(c);
    }
    return this.parameterCommand;
  }

  /** Puts the open stack's lines into its text. */
  private closeStackText(): void {
    const stack = this.stack!;
    // A one-line text is a slice of the transcript's text: own() copies it (joined texts are copies).
    if (this.stackLines.length === 1) stack.text = own(this.stackLines[0]);
    else if (this.stackLines.length > 0) stack.text = this.stackLines.join('\n');
    this.stackLines = [];
  }

  private endStack(): void {
    if (this.stack === null) return;
    this.closeStackText();
    this.parametersOpen = false;
    this.stack = null;
    this.ctx.stack = null;
  }

  /** Every other line: what it means depends on the context. */
  private dispatch(text: string, start: number): boolean {
    const c = text.charCodeAt(start);
    if (this.wrappedProcessHeader !== 0) {
      const wrappedAt = this.wrappedProcessHeader;
      this.wrappedProcessHeader = 0;
      const address = wrappedAt === this.lineNo - 1 ? matchWrappedProcessAddress(text, start) : null;
      if (address !== null) {
        this.openProcess({ kind: 'process', address: own(address) }, text, text.length);
        return true;
      }
    }
    switch (c) {
      case 80: {
        // P
        if (text.length - start === 7 && text.startsWith('PROCESS', start)) {
          // A PROCESS header wrapped after its keyword: the address is alone on the next line.
          // Not a session line: the block opens at the address line (and no segment starts there).
          this.wrappedProcessHeader = this.lineNo;
          return true;
        }
        const peb = matchPebHeader(text, start);
        if (peb !== null) {
          this.ctx.peb = peb;
          return true;
        }
        break;
      }
      case 84: {
        // T
        const th = matchThreadHeader(text, start, this.view, this.viewBase);
        if (th) {
          this.openThread(th);
          return true;
        }
        break;
      }
      case 67: // C
        if (text.startsWith('Child', start)) {
          const layout = matchStackHeader(text, start);
          if (layout) return this.openStack(layout), true;
        }
        if (this.pebString(text, start)) return true;
        break;
      case 35: // #
      case 82: {
        // R
        const layout = matchStackHeader(text, start);
        if (layout) return this.openStack(layout), true;
        break;
      }
      case 73: // I
        if (this.pebString(text, start)) return true;
        break;
      case 79: {
        // O
        const own = matchOwningProcess(text, start, this.view, this.viewBase);
        if (own) {
          this.owningProcess(own.address, own.image);
          return true;
        }
        break;
      }
      case 75: // K
        if (text.startsWith('Kernel stack not resident', start)) {
          if (this.thread) this.thread.stackNotResident = true;
          return true;
        }
        break;
      case 40: // (  the wait reason of a THREAD line that wrapped after `WAIT:`
        if (this.thread && this.ctx.thread?.expect === 'wrapped-wait') {
          readWaitReason(tokens(text, start), 0, this.thread);
          this.ctx.thread.expect = 'waits';
          return true;
        }
        break;
      case 42: // *  `**** NT ACTIVE PROCESS DUMP ****`, `*** Stack trace for last set context …`
        return true;
      default:
        break;
    }
    if (this.ctx.command === '!stacks' && this.stacksLine(text, start)) return true;
    if (this.ctx.block !== null && this.processLine(text, start)) return true;
    if (this.thread !== null && this.threadLine(text, start)) return true;
    if (this.headerlessStack(text, start)) return true;
    const banner = matchBanner(text, start);
    if (banner.length > 0) {
      for (const b of banner) this.facts.system.push({ line: this.lineNo, field: b.field as never, value: b.value });
      return true;
    }
    return false;
  }

  /** A session line (session.ts): the context changes as SegmentCutter sees it change, and facts follow. */
  private session(s: SessionLine, text: string, start: number): void {
    switch (s.kind) {
      case 'command':
        this.command(s);
        return;
      case 'process':
        this.openProcess(s, text, start);
        return;
      case 'user-thread':
        this.userThread(s);
        return;
      case 'user-process': {
        applySessionLine(this.ctx, s);
        const fact: ProcessFact = { line: this.lineNo, pid: s.pid, source: 'user-process' };
        if (s.image) fact.image = s.image;
        this.facts.processes.push(fact);
        return;
      }
      default:
        applySessionLine(this.ctx, s);
        return;
    }
  }

  // --- commands -------------------------------------------------------------------------------

  private command(s: SessionLine & { kind: 'command' }): void {
    this.endStack();
    this.closeBlocks();
    applySessionLine(this.ctx, s);
    // Recorded once per segment, and the merge keeps the first of the dump: the mode of the
    // dump's first prompt, and a local kernel target if any prompt says so, however it was cut.
    if (!s.unprompted) {
      if (!this.sawPrompt) {
        this.sawPrompt = true;
        this.facts.system.push({ line: this.lineNo, field: 'mode', value: s.prompt.mode });
      }
      if (s.prompt.local && !this.sawLocalPrompt) {
        this.sawLocalPrompt = true;
        this.facts.system.push({ line: this.lineNo, field: 'target', value: 'local kernel (lkd)' });
      }
    }
  }

  private closeBlocks(): void {
    this.ctx.block = null;
    this.ctx.thread = null;
    this.proc = null;
    this.thread = null;
  }

  // --- processes ------------------------------------------------------------------------------

  private openProcess(s: SessionLine & { kind: 'process' }, text: string, start: number): void {
    this.endStack();
    this.closeBlocks();
    applySessionLine(this.ctx, s);
    const fact: ProcessFact = new BlockFact(this.lineNo, s.address);
    this.proc = fact;
    this.detailCount = 0;
    this.facts.processes.push(fact);
    // NT 4 and Windows 2000 print the fields on the PROCESS line itself.
    const n = text.length;
    let i = start + 8;
    const b = this.view;
    if (b !== undefined) {
      const o = this.viewBase;
      while (i < n && (b[o + i] === 32 || b[o + i] === 9)) i++;
      while (i < n && b[o + i] !== 32) i++;
      while (i < n && (b[o + i] === 32 || b[o + i] === 9)) i++;
    } else {
      i = skipSpaces(text, i);
      while (i < n && text.charCodeAt(i) !== 32) i++;
      i = skipSpaces(text, i);
    }
    if (i < n) this.processFields(text, i);
  }

  /** A line inside a PROCESS block (before its first THREAD). */
  private processLine(text: string, start: number): boolean {
    if (this.thread !== null) return false;
    if (this.processFields(text, start)) return true;
    if (this.pebString(text, start)) return true;
    if (!this.keepDetails) return true;
    const details = (this.proc!.details ??= {}) as Record<string, string>;
    if (this.detailCount >= MAX_DETAILS) return true;
    this.detailCount++;
    const gap = text.indexOf('  ', start);
    const key = gap > 0 ? text.slice(start, gap) : text.slice(start).split(' ')[0];
    const value = text.slice(start + key.length).trim();
    if (key.length > 0 && key.length < 48) details[key] = value;
    return true;
  }

  private readonly badNumber = (field: string): void => this.warn('bad-number', `unreadable ${field} value`);

  /** `base` and `end` as scanProcessFields' (by default, the view mirrors the line from viewBase on). */
  private processFields(text: string, start: number, firstKey = -1, base = this.viewBase, end?: number): boolean {
    const proc = this.proc;
    // Fields are written straight into the open process's fact.
    const fields = scanProcessFields(text, start, this.badNumber, proc ?? undefined, this.view, base, firstKey, end);
    if (fields === null || proc === null) return false;
    if (proc.pid !== undefined && this.ctx.block) this.ctx.block.pid = proc.pid;
    return true;
  }

  private owningProcess(address: string, image?: string): void {
    const fact: ProcessFact = { line: this.lineNo, address: own(address), source: 'owning-process' };
    if (image) fact.image = image;
    if (this.thread) {
      this.thread.processAddress = address;
      if (this.ctx.thread) this.ctx.thread.processAddress = address;
      if (this.thread.pid !== undefined) fact.pid = this.thread.pid;
    }
    this.facts.processes.push(fact);
  }

  // --- threads --------------------------------------------------------------------------------

  private openThread(th: ReturnType<typeof matchThreadHeader> & object): void {
    this.endStack();
    const fact: ThreadFact = { line: this.lineNo, waitsOn: [] };
    if (th.address) fact.address = th.address;
    if (th.pid !== undefined) fact.pid = th.pid;
    if (th.tid !== undefined) fact.tid = th.tid;
    if (th.state) fact.state = th.state;
    if (th.waitReason) fact.waitReason = th.waitReason;
    if (th.waitMode) fact.waitMode = th.waitMode;
    if (th.processor !== undefined) fact.processor = th.processor;
    const block = this.ctx.block;
    if (block?.address) fact.processAddress = block.address;
    else if (this.ctx.target?.processAddress && th.pid !== undefined) {
      // `!process X ff` printed threads without the PROCESS block: X is the threads' process.
      fact.processAddress = this.ctx.target.processAddress;
      this.facts.processes.push({ line: this.lineNo, address: own(this.ctx.target.processAddress), pid: th.pid, source: 'context' });
    }
    this.thread = fact;
    this.ctx.thread = {
      expect: th.waitWrapped ? 'wrapped-wait' : 'waits',
      ...(fact.address ? { address: fact.address } : {}),
      ...(fact.pid !== undefined ? { pid: fact.pid } : {}),
      ...(fact.tid !== undefined ? { tid: fact.tid } : {}),
      ...(fact.processAddress ? { processAddress: fact.processAddress } : {}),
    };
    this.facts.threads.push(fact);
  }

  /** A line under a THREAD: wait objects first, then details. */
  private threadLine(text: string, start: number): boolean {
    const t = this.ctx.thread;
    if (t === null) return false;
    if (t.expect === 'waits' || t.expect === 'wrapped-wait') {
      const w = matchWaitObject(text, start);
      if (w) {
        this.thread!.waitsOn.push(w);
        return true;
      }
      t.expect = 'details';
    }
    if (this.pebString(text, start)) return true;
    // Thread details (`Not impersonating`, `Wait Start TickCount`, `IRP List:`, …) are known
    // output of !thread; they are not facts the graph needs.
    return isThreadDetail(text, start);
  }

  /** A user-mode `~` thread header. */
  private userThread(s: SessionLine & { kind: 'user-thread' }): void {
    const th: UserThreadHeader = s.header;
    this.endStack();
    this.closeBlocks();
    applySessionLine(this.ctx, s);
    const fact: ThreadFact = { line: this.lineNo, pid: th.pid, tid: th.tid, index: th.index, waitsOn: [] };
    if (th.name) fact.name = th.name;
    this.thread = fact;
    this.facts.threads.push(fact);
  }

  // --- !stacks tables ------------------------------------------------------------------------

  private stacksLine(text: string, start: number): boolean {
    if (text.startsWith('Proc.Thread', start)) return true;
    const image = matchStacksProcess(text, start);
    if (image !== null) {
      this.closeBlocks();
      this.ctx.listImage = image;
      return true;
    }
    const row = matchStacksRow(text, start);
    if (row === null) return false;
    this.endStack();
    this.closeBlocks();
    const proc: ProcessFact = { line: this.lineNo, pid: row.pid, source: 'thread-listing' };
    if (this.ctx.listImage !== null) proc.image = this.ctx.listImage;
    this.facts.processes.push(proc);
    const fact: ThreadFact = { line: this.lineNo, address: row.address, pid: row.pid, tid: row.tid, state: row.state, waitsOn: [] };
    if (row.pagedOut) fact.stackNotResident = true;
    this.thread = fact;
    this.ctx.thread = { address: row.address, pid: row.pid, tid: row.tid, expect: 'details' };
    this.facts.threads.push(fact);
    if (row.blocker !== null) {
      const layout = { numbered: false, frameAddress: false, callSiteOnly: true };
      const n = countFrameLine(row.blocker, 0, layout);
      if (n > 0) {
        this.openStack(layout);
        this.stack!.frameCount = n;
        this.parametersOpen = frameCount.lastOpensParameters;
        this.stackLines.push(row.blocker);
      }
    }
    return true;
  }

  // --- stacks ---------------------------------------------------------------------------------

  private openStack(layout: StackLayout, headerless = false): void {
    this.endStack();
    const line = this.lineNo;
    // Stacks under a kernel THREAD belong to its block; `~*k` stacks are printed on their own.
    const inBlock = this.thread !== null && this.ctx.thread?.index === undefined;
    const stack: StackFact = {
      line,
      owner: this.stackOwner(),
      machine: this.ctx.machine,
      inBlock,
      text: '',
      // After a header, the frames start on the next line; a headerless stack or a `!stacks` row holds its own line.
      textLine: headerless || layout.callSiteOnly ? line : line + 1,
      layout: layoutFlags(layout, this.isParameterCommand, headerless),
      frameCount: 0,
      elided: false,
    };
    this.stack = stack;
    this.stackLayout = layout;
    this.ctx.stack = { line, layout, owner: stack.owner, inBlock, machine: stack.machine };
    this.facts.stacks.push(stack);
  }

  /** A frame with its header cut off (pasted stacks). */
  private headerlessStack(text: string, start: number): boolean {
    const frame = parseFrame(text, start, null, this.lineNo);
    if (frame === null) return false;
    const layout = { numbered: frame.number !== undefined, frameAddress: true };
    this.openStack(layout, true);
    // The glued frame, if any, reads with the stack's layout.
    const second = frame.glued === undefined ? null : parseFrame(frame.glued, 0, layout, this.lineNo);
    this.stack!.frameCount = second === null ? 1 : 2;
    this.parametersOpen = (second ?? frame).callSite.endsWith('(');
    this.stackLines.push(text);
    return true;
  }

  /** Who a stack printed here belongs to. */
  private stackOwner(): Owner {
    const ctx = this.ctx;
    const t = ctx.thread;
    if (t) {
      const o: Owner = {};
      if (t.address) o.threadAddress = t.address;
      if (t.pid !== undefined) o.pid = t.pid;
      if (t.tid !== undefined) o.tid = t.tid;
      if (t.processAddress) o.processAddress = t.processAddress;
      return o;
    }
    const o: Owner = {};
    if (ctx.mode === 'user') {
      if (ctx.userPid !== null) o.pid = ctx.userPid;
      if (ctx.userThreadIndex !== null) o.threadIndex = ctx.userThreadIndex;
      return o;
    }
    if (ctx.implicitThread) o.threadAddress = ctx.implicitThread;
    if (ctx.implicitProcess) o.processAddress = ctx.implicitProcess;
    return o;
  }

  // --- PEB ------------------------------------------------------------------------------------

  private pebString(text: string, start: number): boolean {
    const s = matchPebString(text, start);
    if (s === null) return false;
    if (s.key === 'ImageFile') return true;
    const fact: CommandLineFact = { line: this.lineNo, owner: this.commandLineOwner(), commandLine: s.value };
    const image = imageFromCommandLine(s.value);
    if (image) fact.imageFile = image;
    this.facts.commandLines.push(fact);
    return true;
  }

  /** Who a command line printed here belongs to: the block, the command's target, the PEB, the implicit process. */
  private commandLineOwner(): Owner {
    const ctx = this.ctx;
    if (ctx.block) return { ...(ctx.block.address ? { processAddress: ctx.block.address } : {}), ...(ctx.block.pid !== undefined ? { pid: ctx.block.pid } : {}) };
    if (ctx.thread?.processAddress) return { processAddress: ctx.thread.processAddress, ...(ctx.thread.pid !== undefined ? { pid: ctx.thread.pid } : {}) };
    if (ctx.target) return { ...ctx.target };
    const o: Owner = {};
    if (ctx.peb) o.peb = ctx.peb;
    if (ctx.mode === 'user') {
      if (ctx.userPid !== null) o.pid = ctx.userPid;
    } else if (ctx.implicitProcess) o.processAddress = ctx.implicitProcess;
    return o;
  }
}

/**
 * A PROCESS block's fact as the block opens: its fields are added line by line, and objects made
 * by a constructor get room for them in the object itself (V8's slack tracking), where an object
 * literal's would move to a separate store that grows, and is copied, as they come (a twentieth
 * of a storm listing's time). A plain ProcessFact in every other way.
 */
class BlockFact implements ProcessFact {
  readonly source = 'process-block';
  constructor(
    public line: number,
    public address: string,
  ) {}
}

const THREAD_DETAIL_PREFIXES = [
  'Not impersonating',
  'Impersonation token',
  'DeviceMap',
  'Owning Process',
  'Attached Process',
  'Wait Start TickCount',
  'WaitTime',
  'Context Switch Count',
  'UserTime',
  'KernelTime',
  'Win32 Start Address',
  'Start Address',
  'Stack Init',
  'Initial Sp',
  'Base ',
  'Priority',
  'IRP List',
  'Kernel stack',
  'LargeStack',
  'Ticks:',
];

const startsWithThreadDetail = prefixMatcher(THREAD_DETAIL_PREFIXES);

/**
 * The thread detail lines that read() takes on bytes before anything else: THREAD_DETAIL_PREFIXES
 * but `Owning Process` (a fact) and `Kernel stack` (`Kernel stack not resident` says something).
 * None of them can be a session line (`Priority` is not `PROCESS `, `Impersonation`/`Initial`/`IRP`
 * not `Implicit`, `Stack`/`Start` not `Searching`), a wait object (each has a letter past F in its
 * first token, or a first token shorter than 8) or anything dispatch reads: under a THREAD,
 * outside a stack and a `!stacks` table, the path through read() ends in isThreadDetail for them.
 */
const QUICK_THREAD_DETAILS = THREAD_DETAIL_PREFIXES.filter((p) => p !== 'Owning Process' && p !== 'Kernel stack');
const quickThreadDetail = bytePrefixMatcher(QUICK_THREAD_DETAILS);

function isThreadDetail(text: string, start: number): boolean {
  if (startsWithThreadDetail(text, start)) return true;
  // IRP list entries: `85102de0: (0006,0220) Flags: 00000884  Mdl: 00000000`
  const colon = text.indexOf(': (', start);
  return colon > start && colon - start <= 17;
}

/** Parses one segment's lines from its starting context. Pure; never throws on any input. */
export function parseLines(
  lines: readonly string[],
  context: DebuggerContext,
  segment: number,
  firstLine: number,
): { facts: Facts; context: DebuggerContext } {
  const p = new TranscriptParser(context, segment, firstLine);
  for (let i = 0; i < lines.length; i++) p.line(lines[i], firstLine + i);
  return p.finish();
}

/**
 * Makes every string the facts keep a copy of its own (see own): facts outlive the segment's
 * text, which must not stay in memory because an address was sliced from it.
 */
function ownStrings(facts: Facts): void {
  for (const p of facts.processes) {
    // A process's address, PEB and object table are strings of their own already: the grammar
    // makes them from bytes (matchProcessHeader, scanProcessFields), the parser owns the others
    // where it puts them in a fact. Copying them again cost as much as reading their lines. The
    // image is owned, not interned: most process facts of a listing printed again are dropped as
    // soon as they are merged (DumpGraph.compact), and a look-up in the intern table for each cost
    // a twentieth of a storm's time. A copy per process kept is a few megabytes at most.
    if (p.image !== undefined) p.image = own(p.image);
    if (p.details !== undefined) {
      const owned: Record<string, string> = {};
      for (const k in p.details) owned[intern(k)] = own(p.details[k]);
      p.details = owned;
    }
  }
  for (const t of facts.threads) {
    if (t.address !== undefined) t.address = own(t.address);
    if (t.processAddress !== undefined) t.processAddress = own(t.processAddress);
    if (t.state !== undefined) t.state = intern(t.state);
    if (t.waitReason !== undefined) t.waitReason = intern(t.waitReason);
    if (t.waitMode !== undefined) t.waitMode = intern(t.waitMode);
    if (t.name !== undefined) t.name = own(t.name);
    for (const w of t.waitsOn) {
      w.address = own(w.address);
      w.type = intern(w.type);
    }
  }
  for (const st of facts.stacks) {
    ownOwner(st.owner);
    if (st.machine !== null) st.machine = intern(st.machine);
  }
  for (const c of facts.commandLines) {
    ownOwner(c.owner);
    c.commandLine = own(c.commandLine);
    if (c.imageFile !== undefined) c.imageFile = own(c.imageFile);
  }
  for (const s of facts.system) if (typeof s.value === 'string') s.value = own(s.value);
  for (const w of facts.warnings) w.text = own(w.text);
  if (facts.unparsed !== undefined) for (const u of facts.unparsed) u.text = own(u.text);
}

function ownOwner(o: Owner): void {
  if (o.processAddress !== undefined) o.processAddress = own(o.processAddress);
  if (o.threadAddress !== undefined) o.threadAddress = own(o.threadAddress);
  if (o.peb !== undefined) o.peb = own(o.peb);
}
