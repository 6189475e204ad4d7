import type { Owner } from './facts';
import type { StackLayout } from './grammar';

/**
 * The debugger context in force at a point of a transcript: everything a line's meaning depends
 * on that earlier lines set. A segment carries the context at its start, so that it parses on its
 * own, in any worker, in any order. Plain JSON, small, bounded.
 */
export interface DebuggerContext {
  /** `kernel` after a `kd>` prompt, `user` after `0:000>`; null before any prompt. */
  mode: 'kernel' | 'user' | null;
  /** Effective machine when it is not the native one (`:x86` prompts, `.effmach x86`). */
  machine: string | null;
  /** `.process /r /p X`, `Implicit process is now X`. */
  implicitProcess: string | null;
  /** `.thread /w X`, `Implicit thread is now X`. */
  implicitThread: string | null;
  /** Name of the command whose output is being read (`!process`, `k`, `!peb`, …). */
  command: string | null;
  /** The process a command named: `!process X ff`, `!process 0n189240`, `Searching for … Cid == X`. */
  target: { processAddress?: string; pid?: number } | null;
  /** User mode: the process being debugged (`|`, `~` listings), and the prompt's thread number. */
  userPid: number | null;
  userThreadIndex: number | null;
  /** The PROCESS block being read. */
  block: { address?: string; pid?: number } | null;
  /** The THREAD block, or `~` thread header, being read. */
  thread: {
    address?: string;
    pid?: number;
    tid?: number;
    index?: number;
    processAddress?: string;
    /** What the next lines may be: wait objects, or a wrapped `(Reason) Mode` line. */
    expect: 'waits' | 'wrapped-wait' | 'details';
  } | null;
  /** The stack being read, when a segment starts in the middle of one. */
  stack: { line: number; layout: StackLayout | null; owner: Owner; inBlock: boolean; machine: string | null } | null;
  /** `PEB at X` / `!peb X`: the PEB whose fields are being read. */
  peb: string | null;
  /** `!stacks`: the `[image]` heading the rows being read. */
  listImage: string | null;
}

/** The context at the top of a transcript. */
export function initialContext(): DebuggerContext {
  return {
    mode: null,
    machine: null,
    implicitProcess: null,
    implicitThread: null,
    command: null,
    target: null,
    userPid: null,
    userThreadIndex: null,
    block: null,
    thread: null,
    stack: null,
    peb: null,
    listImage: null,
  };
}

/** A deep copy, so that a snapshot handed to a segment never changes under it. */
export function cloneContext(ctx: DebuggerContext): DebuggerContext {
  return JSON.parse(JSON.stringify(ctx)) as DebuggerContext;
}
