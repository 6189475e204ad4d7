/**
 * Stacks kept as text: the flags that say how a stack's lines read, and the one function that
 * builds frames from them. The parser only counts frames (countFrameLine); frames are built here,
 * when a report renders a stack, by the same rules the parser applied line by line.
 */
import type { Frame, StackFact } from './facts';
import { closeParameterList, dropParameterList, parseFrame, type StackLayout } from './grammar';
import { skipSpaces } from './text';

/** A frame number column (`kn`, `# Child-SP`). */
export const STACK_NUMBERED = 1;
/** The first value column is the frame pointer (ChildEBP / Child-SP). */
export const STACK_FRAME_ADDRESS = 2;
/** `!stacks 2`: bare call sites. */
export const STACK_CALL_SITE_ONLY = 4;
/** Printed by `kp`/`kP`: call sites carry parameter lists, which the report leaves out. */
export const STACK_PARAMETERS = 8;
/** A pasted stack without its header: its first line was recognised without a layout. */
export const STACK_HEADERLESS = 16;

/** The STACK_* flags of a layout. */
export function layoutFlags(layout: StackLayout, parameters: boolean, headerless: boolean): number {
  return (
    (layout.numbered ? STACK_NUMBERED : 0) |
    (layout.frameAddress ? STACK_FRAME_ADDRESS : 0) |
    (layout.callSiteOnly ? STACK_CALL_SITE_ONLY : 0) |
    (parameters ? STACK_PARAMETERS : 0) |
    (headerless ? STACK_HEADERLESS : 0)
  );
}

/** The layout that STACK_* flags describe. */
export function layoutOf(flags: number): StackLayout {
  const layout: StackLayout = { numbered: (flags & STACK_NUMBERED) !== 0, frameAddress: (flags & STACK_FRAME_ADDRESS) !== 0 };
  if (flags & STACK_CALL_SITE_ONLY) layout.callSiteOnly = true;
  return layout;
}

const BEYOND_LATIN1 = /[^\x00-\xff]/;

/**
 * The frames of a stack fact, built from its text (or `text`, when the caller read it back from
 * where it was moved). Lines that are not frames (`...`, wrapped source lines) are skipped, as the
 * parser skipped them; a `kP` parameter list that runs over lines closes its frame's call site.
 */
export function readStackFrames(stack: Pick<StackFact, 'text' | 'textLine' | 'layout' | 'frames'>, text: string = stack.text): Frame[] {
  if (stack.frames !== undefined && stack.frames.length > 0) return stack.frames;
  if (text.length === 0) return [];
  const layout = layoutOf(stack.layout);
  const parameters = (stack.layout & STACK_PARAMETERS) !== 0;
  const frames: Frame[] = [];
  // The frame scanner reads bytes: those of the whole text at once when it has no character past
  // U+00FF (latin1 is then the text one byte a character), else a copy of each line (lineBytes).
  const bytes = BEYOND_LATIN1.test(text) ? undefined : Buffer.from(text, 'latin1');
  const view = bytes === undefined ? undefined : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  let from = 0;
  for (let lineNo = stack.textLine; from <= text.length; lineNo++) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    const line = text.slice(from, to);
    from = to + 1;
    const last = frames.length > 0 ? frames[frames.length - 1] : null;
    if (last !== null && last.callSite.endsWith('(')) {
      const p = closeParameterList(last.callSite, line);
      if (p.done) fixCallSite(last, p.callSite);
      continue;
    }
    const headerless = lineNo === stack.textLine && (stack.layout & STACK_HEADERLESS) !== 0;
    const frame = parseFrame(line, skipSpaces(line), headerless ? null : layout, lineNo, view, view === undefined ? 0 : to - line.length);
    if (frame !== null) push(frames, frame, layout, parameters);
  }
  return frames;
}

function push(frames: Frame[], frame: Frame, layout: StackLayout, parameters: boolean): void {
  const glued = frame.glued;
  if (glued !== undefined) delete frame.glued;
  if (parameters && !frame.callSite.endsWith('(')) fixCallSite(frame, dropParameterList(frame.callSite));
  frames.push(frame);
  if (glued !== undefined) {
    const second = parseFrame(glued, 0, layout, frame.line);
    if (second !== null) push(frames, second, layout, parameters);
  }
}

function fixCallSite(frame: Frame, callSite: string): void {
  if (callSite === frame.callSite) return;
  frame.callSite = callSite;
  frame.module = frame.function = frame.offset = null;
  const again = parseFrame(`0 0 ${callSite}`, 0, { numbered: false, frameAddress: true }, frame.line);
  if (again) {
    frame.module = again.module;
    frame.function = again.function;
    frame.offset = again.offset;
  }
}
