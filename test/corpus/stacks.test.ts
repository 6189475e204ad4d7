/**
 * The parser counts a stack's frames without building them (countFrameLine) and keeps its lines;
 * reports build the frames from those lines later (readStackFrames). The two must agree on every
 * real transcript, whole and cut into segments of a few lines (stacks continued across cuts).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { readStackFrames, Segmenter, type StackFact } from '@dumpstream/transcript';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const files = ['corpus', 'formats', 'fuzz']
  .map((f) => path.join(FIXTURES, f))
  .filter((d) => existsSync(d))
  .flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.txt')).map((f) => path.join(d, f)))
  .concat(path.join(FIXTURES, 'seed-error-reporting-fault.txt'));

function stacksOf(file: string, maxLines?: number): StackFact[] {
  const stacks: StackFact[] = [];
  const s = new Segmenter((_seg, f) => stacks.push(...f.stacks), maxLines ? { maxLines, hardMaxLines: maxLines } : {});
  s.push(readFileSync(file));
  s.end();
  return stacks;
}

describe('stacks kept as text', () => {
  it('has real transcripts with frames to check', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.reduce((n, f) => n + stacksOf(f).reduce((m, s) => m + s.frameCount, 0), 0)).toBeGreaterThan(500);
  });

  it.each(files.map((f) => [path.relative(FIXTURES, f), f]))('%s: the frames built from each stack are the frames the parser counted', (_name, file) => {
    for (const cut of [undefined, 3]) {
      for (const s of stacksOf(file, cut)) expect({ line: s.line, frames: readStackFrames(s).length }).toEqual({ line: s.line, frames: s.frameCount });
    }
  });
});
