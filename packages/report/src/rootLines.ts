import type { EvidenceKind } from '@dumpstream/graph';
import type { ReportFinding, ReportFrame } from './report';

/**
 * The lines every rendering (text, HTML, SVG) writes under an original fault: its exception stack
 * with the faulting frame marked, and its conflicts grouped and named. One module, so that the
 * formats cannot drift apart.
 */

type Root = ReportFinding['chains'][number]['root'];

/** Frames of the exception path (raise, dispatch, report), drawn in bold. */
export const EXCEPTION_FRAME = /KiUserExceptionDispatch|RtlDispatchException|UnhandledExceptionFilter|WerpReportFault|RtlRaiseException|KiDispatchException|RaiseException/;

/** One line of an exception stack as drawn: a frame, or `… N more frames`. */
export interface StackLine {
  text: string;
  /** A frame of the exception path. */
  exception: boolean;
  /** The faulting frame (ChainRoot.faultingFrame). */
  faulting: boolean;
  frame: ReportFrame | null;
}

/** Marks the faulting frame in text renderings. */
export const FAULTING_MARK = '◀ faulting frame';

/**
 * The root's exception stack, the first `maxFrames` frames; when the faulting frame is further
 * down it is drawn too, after a `… N more frames` line, so that it is never cut off.
 */
export function exceptionStackLines(root: Root, maxFrames: number): StackLine[] {
  const frames = root.exceptionStack ?? [];
  const faulting = root.faultingFrame ?? -1;
  const out: StackLine[] = [];
  const line = (f: ReportFrame, i: number): StackLine => ({ text: f.callSite, exception: EXCEPTION_FRAME.test(f.callSite), faulting: i === faulting, frame: f });
  const more = (n: number): StackLine => ({ text: `… ${n} more frame${n === 1 ? '' : 's'}`, exception: false, faulting: false, frame: null });
  frames.slice(0, maxFrames).forEach((f, i) => out.push(line(f, i)));
  if (faulting >= maxFrames) {
    if (faulting > maxFrames) out.push(more(faulting - maxFrames));
    out.push(line(frames[faulting], faulting));
    if (frames.length > faulting + 1) out.push(more(frames.length - faulting - 1));
  } else if (frames.length > maxFrames) out.push(more(frames.length - maxFrames));
  return out;
}

/** The faulting frame's line for a heading (`faulting frame: app!Parse+0xe6 (frame 19 of 21)`), or null. */
export function faultingFrameText(root: Root): string | null {
  const i = root.faultingFrame ?? null;
  const f = i === null ? undefined : root.exceptionStack?.[i];
  if (f === undefined || i === null) return null;
  return `faulting frame: ${f.callSite} (frame ${i + 1} of ${root.exceptionStack!.length}, the first of the program's own code past the exception dispatch)`;
}

/** A conflict as the chains list it. */
export interface Conflict {
  reporterPid: number;
  kind: EvidenceKind;
  targetPid: number;
}

/**
 * Conflicts grouped by what they point at (a storm repeats one for every reporter), each line
 * naming the process pointed at: `conflict: the parentage of 3 WerFault.exe (12248, 88, 91) points
 * at svchost.exe 91652 (Cid 16604), overruled by stronger evidence`. At most `max` lines.
 */
export function conflictLines(conflicts: readonly Conflict[], images: ReadonlyMap<number, string | null>, max = 10): string[] {
  const groups = new Map<string, { kind: EvidenceKind; targetPid: number; reporters: number[] }>();
  for (const c of conflicts) {
    const key = `${c.kind}:${c.targetPid}`;
    const g = groups.get(key) ?? { kind: c.kind, targetPid: c.targetPid, reporters: [] };
    if (!g.reporters.includes(c.reporterPid)) g.reporters.push(c.reporterPid);
    groups.set(key, g);
  }
  const sorted = [...groups.values()].sort((a, b) => b.reporters.length - a.reporters.length || a.targetPid - b.targetPid);
  const out: string[] = [];
  for (const c of sorted.slice(0, max)) {
    const who =
      c.reporters.length === 1
        ? `WerFault.exe ${c.reporters[0]}`
        : `${c.reporters.length} WerFault.exe (${c.reporters.slice(0, 4).join(', ')}${c.reporters.length > 4 ? ', …' : ''})`;
    const image = images.has(c.targetPid) ? images.get(c.targetPid) ?? '(image unknown)' : null;
    const target = image === null ? `pid ${c.targetPid} (Cid ${c.targetPid.toString(16)}, not in the dump)` : `${image} ${c.targetPid} (Cid ${c.targetPid.toString(16)})`;
    out.push(`conflict: the ${c.kind} of ${who} points at ${target}, overruled by stronger evidence`);
  }
  if (sorted.length > max) out.push(`… ${sorted.length - max} more kinds of conflict (see --format json)`);
  return out;
}
