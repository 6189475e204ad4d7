// The byte readers of THREAD headers and Owning Process lines against the token readers they
// replaced (kept here as the reference), on generated lines: from a string (lineBytes' copy) and
// from a view of bytes with other bytes around the line, as LineReader's chunks give them.
import { matchOwningProcess, matchThreadHeader, parseCid, readWaitReason, type ThreadHeader } from './grammar';
import { canonicalHex, parseDecimal, tokens } from './text';

const THREAD_STATES: ReadonlySet<string> = new Set(['WAIT', 'RUNNING', 'READY', 'STANDBY', 'TERMINATED', 'TRANSITION', 'DEFERREDREADY', 'GATEWAIT', 'INITIALIZED']);

/** matchThreadHeader before it read bytes. */
function referenceThreadHeader(line: string, start: number): ThreadHeader | null {
  if (!line.startsWith('THREAD ', start)) return null;
  const t = tokens(line, start + 7);
  if (t.length === 0) return null;
  const out: ThreadHeader = { address: canonicalHex(t[0]), waitWrapped: false };
  for (let i = 1; i < t.length; i++) {
    const tok = t[i];
    if (tok === 'Cid' && i + 1 < t.length) {
      const cid = parseCid(t[i + 1]);
      if (cid) {
        out.pid = cid.pid;
        out.tid = cid.tid;
      }
      i++;
      continue;
    }
    const word = tok.endsWith(':') ? tok.slice(0, -1) : tok;
    if (THREAD_STATES.has(word)) {
      out.state = word as ThreadHeader['state'];
      if (word === 'WAIT') {
        if (i + 1 >= t.length) out.waitWrapped = tok.endsWith(':');
        else readWaitReason(t, i + 1, out);
      } else if (t[i + 1] === 'on' && t[i + 2] === 'processor') {
        const p = parseDecimal(t[i + 3] ?? '');
        if (p !== null) out.processor = p;
      }
      break;
    }
  }
  return out;
}

/** matchOwningProcess before it read bytes. */
function referenceOwningProcess(line: string, start: number): { address: string; image?: string } | null {
  if (!line.startsWith('Owning Process', start)) return null;
  const t = tokens(line, start + 14);
  if (t.length === 0) return null;
  const address = canonicalHex(t[0]);
  if (address === null) return null;
  const at = line.indexOf('Image:', start);
  const image = at >= 0 ? line.slice(at + 6).trim() : '';
  return image.length > 0 ? { address, image } : { address };
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'THREAD', 'Cid', 'Teb:', 'Win32Thread:', 'WAIT:', 'WAIT', 'WAIT::', 'RUNNING', 'READY:', 'on', 'processor', 'TERMINATED', 'DEFERREDREADY', 'GATEWAIT:',
  '(UserRequest)', '(Executive', '()', '(', ')', 'UserMode', 'KernelMode', 'Non-Alertable', 'Alertable', 'Image:', 'System', 'caf\u00e9.exe',
  'ffffe001d1a2e080', 'ffffe001`d1a2e080', 'FFFFE001D1A2E080', '0x1234', '0x', '0', '0`0', '`', '00000000`00000000', '88b9fcb0', 'zz', '12g4',
  '2d3c8.4334c', '0A3C.0x0b40', '1.2.3', '.5', '5.', '123456789.1', '00000000012345678.1', '3.', '17', '2.', '2..', '1234567890123456', '\u2026',
];

function randomLine(r: () => number): string {
  const parts: string[] = [];
  const n = Math.floor(r() * 10);
  if (r() < 0.8) parts.push(r() < 0.5 ? 'THREAD' : 'Owning Process');
  for (let i = 0; i < n; i++) parts.push(PIECES[Math.floor(r() * PIECES.length)]);
  let line = '';
  for (const p of parts) line += (line.length === 0 ? '' : r() < 0.1 ? '\t' : r() < 0.3 ? '   ' : ' ') + p;
  return (r() < 0.3 ? '        ' : '') + line;
}

/** The line's bytes inside other bytes, as a chunk holds it (latin1: one byte a character, 255 past it). */
function viewOf(line: string, r: () => number): { view: Uint8Array; base: number } {
  const before = Math.floor(r() * 5);
  const view = new Uint8Array(before + line.length + 4);
  for (let i = 0; i < view.length; i++) view[i] = 32 + Math.floor(r() * 95);
  for (let i = 0; i < line.length; i++) view[before + i] = Math.min(line.charCodeAt(i), 255);
  return { view, base: before };
}

describe('THREAD and Owning Process lines read on bytes', () => {
  it('read every generated line as the token readers did, from a string and from a view', () => {
    const r = rng(9);
    for (let k = 0; k < 30_000; k++) {
      const line = randomLine(r);
      let start = 0;
      while (start < line.length && line.charCodeAt(start) === 32) start++;
      const thread = referenceThreadHeader(line, start);
      const owning = referenceOwningProcess(line, start);
      expect(matchThreadHeader(line, start)).toEqual(thread);
      expect(matchOwningProcess(line, start)).toEqual(owning);
      if (!/[\t\u0080-\uffff]/.test(line)) {
        const { view, base } = viewOf(line, r);
        expect(matchThreadHeader(line, start, view, base)).toEqual(thread);
        expect(matchOwningProcess(line, start, view, base)).toEqual(owning);
      }
    }
  });
});
