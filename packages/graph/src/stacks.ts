import type { StackFact } from '@dumpstream/transcript';
import { grown, Words } from './columns';
import type { StackText, StackTextPart } from './graph';

const ELIDED = 1;
const IN_BLOCK = 2;

/**
 * The stacks of a dump as columns, a row per stack in transcript order: where its text is (in the
 * fact, or by reference in a store), how it reads, and what it belongs to. A million stacks cost a
 * few dozen bytes each here, where a fact, its owner, a StackText and its part held about half a
 * kilobyte while the graph was resolved. StackText objects are built when a stack is read (`text`).
 *
 * A stack of one part whose frames are text (every stack the parser writes, unless a segment's end
 * cut it) lives in the columns alone; the others keep their parts as objects.
 */
export class StackTable {
  count = 0;
  private capacity = 0;
  line = new Float64Array(0);
  /** Frames of the whole stack, all its parts. */
  frameCount = new Float64Array(0);
  private textLine = new Float64Array(0);
  private layout = new Float64Array(0);
  private partFrames = new Float64Array(0);
  /** The first part's text reference (NaN: none). */
  private refOffset = new Float64Array(0);
  private refLength = new Float64Array(0);
  private flags = new Uint8Array(0);
  private machineWord = new Uint32Array(0);
  private readonly partText: string[] = [];
  /** Every part of the stacks that do not fit the columns: several parts, or frames already built. */
  private readonly parts = new Map<number, StackTextPart[]>();
  private readonly words = new Words();

  /** Sized for `rows` stacks (their facts' count, known before: no copy as the table grows). */
  constructor(rows = 0) {
    if (rows > 0) this.grow(rows);
  }

  /** A new stack from its first fact, with `frames` frames; returns its row. */
  add(s: StackFact, frames: number): number {
    if (this.count === this.capacity) this.grow();
    const r = this.count++;
    this.line[r] = s.line;
    this.frameCount[r] = frames;
    this.flags[r] = (s.elided ? ELIDED : 0) | (s.inBlock ? IN_BLOCK : 0);
    this.machineWord[r] = this.words.id(s.machine);
    if (s.frames !== undefined) {
      this.partText.push('');
      this.parts.set(r, [textPart(s)]);
      return r;
    }
    this.partText.push(s.text);
    this.textLine[r] = s.textLine;
    this.layout[r] = s.layout;
    this.partFrames[r] = s.frameCount;
    this.refOffset[r] = s.textRef !== undefined ? s.textRef.offset : NaN;
    this.refLength[r] = s.textRef !== undefined ? s.textRef.length : NaN;
    return r;
  }

  /** The next part of stack `r` (the same stack, continued past a segment's end). */
  continue(r: number, s: StackFact, frames: number): void {
    let parts = this.parts.get(r);
    if (parts === undefined) {
      parts = [this.firstPart(r)];
      this.parts.set(r, parts);
      this.partText[r] = '';
    }
    parts.push(textPart(s));
    this.frameCount[r] += frames;
    if (s.elided) this.flags[r] |= ELIDED;
  }

  elided(r: number): boolean {
    return (this.flags[r] & ELIDED) !== 0;
  }

  inBlock(r: number): boolean {
    return (this.flags[r] & IN_BLOCK) !== 0;
  }

  machine(r: number): string | null {
    return this.words.at(this.machineWord[r]);
  }

  /** Stack `r` as a StackText, built afresh. */
  text(r: number): StackText {
    const parts = this.parts.get(r);
    return { parts: parts !== undefined ? parts.map((p) => ({ ...p })) : [this.firstPart(r)], frameCount: this.frameCount[r] };
  }

  private firstPart(r: number): StackTextPart {
    const part: StackTextPart = { text: this.partText[r], textLine: this.textLine[r], layout: this.layout[r], frameCount: this.partFrames[r] };
    if (!Number.isNaN(this.refOffset[r])) part.textRef = { offset: this.refOffset[r], length: this.refLength[r] };
    return part;
  }

  private grow(capacity = Math.max(1024, this.capacity * 2)): void {
    const c = capacity;
    this.line = grown(this.line, c);
    this.frameCount = grown(this.frameCount, c);
    this.textLine = grown(this.textLine, c);
    this.layout = grown(this.layout, c);
    this.partFrames = grown(this.partFrames, c);
    this.refOffset = grown(this.refOffset, c);
    this.refLength = grown(this.refLength, c);
    this.flags = grown(this.flags, c);
    this.machineWord = grown(this.machineWord, c);
    this.capacity = c;
  }
}

/** What a stack fact says of its frames: all that the graph keeps of it. */
export function textPart(s: StackFact): StackTextPart {
  const part: StackTextPart = { text: s.text, textLine: s.textLine, layout: s.layout, frameCount: s.frameCount };
  if (s.textRef !== undefined) part.textRef = s.textRef;
  if (s.frames !== undefined) part.frames = s.frames;
  return part;
}
