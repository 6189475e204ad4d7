import { GeneratorError } from './errors';

/** Target operating system; it decides the dialect of every line (NT 4 has no SessionId, prints `TableSize:`, …). */
export type Os = 'win7' | 'win10' | 'win11' | 'nt4';

/** Target architecture of the dumped machine. `x86` pointers print as 8 hex digits, `x64` as 16. */
export type Arch = 'x64' | 'x86';

/** The debugger whose session is imitated: it decides the banner, the closing lines and some habits. */
export type DebuggerKind = 'kd' | 'cdb' | 'windbg';

/** The three independent kinds of evidence that link a WerFault.exe to the process it reports on. */
export type EvidenceKind = 'command-line' | 'parentage' | 'waiting';

/** All evidence kinds, in the sorted order used by {@link KnownAnswer}. */
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['command-line', 'parentage', 'waiting'];

/**
 * Whether the root's faulting thread shows its exception stack (`present`), shows
 * `Kernel stack not resident.` (`paged-out`), or shows no symbolic stack at all (`absent`).
 */
export type RootStack = 'present' | 'paged-out' | 'absent';

/**
 * How the session is driven: `investigation` is `!process 0 0` followed by per-process commands
 * (an engineer at kd); `full` is one `!process 0 ff` over every process (a cdb script) followed by
 * the same follow-up commands. `listing` is a process table alone: `!process 0 0` printed again
 * and again until `padToBytes` (no threads, stacks, command lines or noise), the shape of a WER
 * storm's process listing; its chains must be linked by `parentage` alone and it has no decoys,
 * since nothing else is printed.
 */
export type SessionStyle = 'investigation' | 'full' | 'listing';

/** A fixed count or an inclusive `[min, max]` range drawn per process / per stack. */
export type CountRange = number | readonly [number, number];

/** One WER recursion chain (or tree) to plant in the dump. */
export interface ChainSpec {
  /** Number of WerFault.exe reporters from the root to a leaf (≥ 1). Depth 1 is not a finding. */
  depth: number;
  /**
   * Tree shape. A number `b`: a single path whose last level forks into `b` leaves. An array:
   * the fan-out of each level, `depth` entries, the first being the reporters of the root.
   * Default 1 (a single path).
   */
  branching?: number | readonly number[];
  /**
   * Evidence printed for each link, or `'mixed'` for a random non-empty subset per link.
   * Default: all three kinds. `waiting` is dropped for the root's link when the root is absent.
   */
  evidence?: readonly EvidenceKind[] | 'mixed';
  /** Whether the original faulting (non-WerFault) process is in the process list. Default true. */
  rootPresent?: boolean;
  /** How the root's faulting thread is printed. Default `'present'`. */
  rootStack?: RootStack;
}

/** Everything that determines one synthetic transcript. Same spec, same bytes. */
export interface DumpSpec {
  /** Seed of every random choice. */
  seed: number;
  /** Default `'win7'`. */
  os?: Os;
  /** Default `'x64'`; NT 4 is always `x86`. */
  arch?: Arch;
  /** Default `'kd'`. */
  debugger?: DebuggerKind;
  /** Number of ordinary (non-WerFault, non-root) processes, System included. Default 40. */
  processes?: number;
  /** WER chains to plant. Default none. */
  chains?: readonly ChainSpec[];
  /**
   * 32-bit chains: reporters are `C:\Windows\SysWOW64\WerFault.exe`, their 32-bit stacks are
   * read with `.thread /w` at a `:x86` prompt. Ignored on x86. Default false.
   */
  wow64?: boolean;
  /** Threads of each ordinary process. Default `[2, 6]`. */
  threadsPerProcess?: CountRange;
  /** Frames of each ordinary stack. Default `[8, 16]`. */
  framesPerStack?: CountRange;
  /**
   * 0..1: how much unrelated output and mess is mixed in: `!locks`, `lm`, registers, `!vm`,
   * re-printed unrelated processes, `...` elisions, warnings, blank lines (about
   * noise / (1 + noise) of the bytes, less in `full` style), and, drawn per dump with a
   * probability that grows with noise, HTML-pasted prompts, collapsed web-paste spacing, CRLF and
   * tabs. Default 0 (none of these).
   */
  noise?: number;
  /** WerFault.exe processes that report on ordinary processes (not a finding). Default 0. */
  werfaultDecoys?: number;
  /**
   * Pad with more realistic output (re-printed processes, threads and stacks, which change no
   * fact) until the transcript has at least this many bytes. Default 0 (no padding).
   */
  padToBytes?: number;
  /** Force the session style; default chosen from the seed and the debugger. */
  style?: SessionStyle;
}

/** A chain spec with every default applied and the tree shape as per-level fan-outs. */
export interface NormalizedChain {
  depth: number;
  fanout: number[];
  evidence: readonly EvidenceKind[] | 'mixed';
  rootPresent: boolean;
  rootStack: RootStack;
}

/** A {@link DumpSpec} with every default applied and validated. */
export interface NormalizedSpec {
  seed: number;
  os: Os;
  arch: Arch;
  debugger: DebuggerKind;
  processes: number;
  chains: NormalizedChain[];
  wow64: boolean;
  threadsPerProcess: readonly [number, number];
  framesPerStack: readonly [number, number];
  noise: number;
  werfaultDecoys: number;
  padToBytes: number;
  style: SessionStyle | undefined;
}

/** Upper bound on WerFault.exe reporters in one dump (a sanity bound, not a format limit). */
export const MAX_REPORTERS = 1_000_000;

function invalid(message: string, context: Record<string, unknown> = {}): never {
  throw new GeneratorError('INVALID_SPEC', message, context);
}

function isInt(n: unknown, min: number): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= min;
}

function range(value: CountRange | undefined, fallback: readonly [number, number], name: string, min: number): readonly [number, number] {
  if (value === undefined) return fallback;
  if (typeof value === 'number') {
    if (!isInt(value, min)) invalid(`${name} must be an integer ≥ ${min}, got ${value}`, { [name]: value });
    return [value, value];
  }
  const [lo, hi] = value;
  if (!isInt(lo, min) || !isInt(hi, lo)) invalid(`${name} must be [min, max] integers with ${min} ≤ min ≤ max`, { [name]: value });
  return [lo, hi];
}

function normalizeChain(c: ChainSpec, i: number): NormalizedChain {
  if (!isInt(c.depth, 1)) invalid(`chains[${i}].depth must be an integer ≥ 1, got ${String(c.depth)}`, { chain: i });
  let fanout: number[];
  if (c.branching === undefined) fanout = new Array<number>(c.depth).fill(1);
  else if (typeof c.branching === 'number') {
    if (!isInt(c.branching, 1)) invalid(`chains[${i}].branching must be an integer ≥ 1`, { chain: i });
    fanout = new Array<number>(c.depth).fill(1);
    fanout[c.depth - 1] = c.branching;
  } else {
    if (c.branching.length !== c.depth || !c.branching.every((b) => isInt(b, 1))) {
      invalid(`chains[${i}].branching as an array needs ${c.depth} integers ≥ 1 (one per level)`, { chain: i });
    }
    fanout = [...c.branching];
  }
  const evidence = c.evidence ?? EVIDENCE_KINDS;
  if (evidence !== 'mixed') {
    if (evidence.length === 0) invalid(`chains[${i}].evidence must not be empty`, { chain: i });
    for (const k of evidence) {
      if (!EVIDENCE_KINDS.includes(k)) invalid(`chains[${i}].evidence has an unknown kind: ${String(k)}`, { chain: i });
    }
  }
  const rootPresent = c.rootPresent ?? true;
  const rootStack = c.rootStack ?? 'present';
  if (!['present', 'paged-out', 'absent'].includes(rootStack)) invalid(`chains[${i}].rootStack is unknown: ${String(rootStack)}`, { chain: i });
  if (!rootPresent && evidence !== 'mixed' && evidence.length === 1 && evidence[0] === 'waiting') {
    invalid(`chains[${i}]: a root that is not in the dump cannot be linked by 'waiting' alone; add 'command-line' or 'parentage'`, { chain: i });
  }
  return { depth: c.depth, fanout, evidence, rootPresent, rootStack };
}

/** Number of reporters a chain plants: the sum over levels of the product of fan-outs. */
export function reporterCount(fanout: readonly number[]): number {
  let total = 0;
  let level = 1;
  for (const f of fanout) {
    level *= f;
    total += level;
  }
  return total;
}

/**
 * Applies defaults and validates a spec.
 * @throws GeneratorError `INVALID_SPEC` when a field is out of range or contradictory.
 */
export function normalizeSpec(spec: DumpSpec): NormalizedSpec {
  if (typeof spec !== 'object' || spec === null) invalid('spec must be an object');
  if (typeof spec.seed !== 'number' || !Number.isFinite(spec.seed)) invalid(`seed must be a finite number, got ${String(spec.seed)}`);
  const os = spec.os ?? 'win7';
  if (!['win7', 'win10', 'win11', 'nt4'].includes(os)) invalid(`unknown os: ${String(os)}`);
  let arch = spec.arch ?? 'x64';
  if (!['x64', 'x86'].includes(arch)) invalid(`unknown arch: ${String(arch)}`);
  if (os === 'nt4') arch = 'x86';
  const debuggerKind = spec.debugger ?? 'kd';
  if (!['kd', 'cdb', 'windbg'].includes(debuggerKind)) invalid(`unknown debugger: ${String(debuggerKind)}`);
  const processes = spec.processes ?? 40;
  if (!isInt(processes, 0)) invalid(`processes must be an integer ≥ 0, got ${processes}`);
  const noise = spec.noise ?? 0;
  if (typeof noise !== 'number' || !(noise >= 0 && noise <= 1)) invalid(`noise must be in [0, 1], got ${noise}`);
  const werfaultDecoys = spec.werfaultDecoys ?? 0;
  if (!isInt(werfaultDecoys, 0)) invalid(`werfaultDecoys must be an integer ≥ 0, got ${werfaultDecoys}`);
  const padToBytes = spec.padToBytes ?? 0;
  if (typeof padToBytes !== 'number' || !(padToBytes >= 0) || !Number.isFinite(padToBytes)) invalid(`padToBytes must be a finite number ≥ 0`);
  if (spec.style !== undefined && spec.style !== 'investigation' && spec.style !== 'full' && spec.style !== 'listing') invalid(`unknown style: ${String(spec.style)}`);
  const chains = (spec.chains ?? []).map(normalizeChain);
  if (spec.style === 'listing') {
    chains.forEach((c, i) => {
      if (c.evidence === 'mixed' || c.evidence.length !== 1 || c.evidence[0] !== 'parentage') {
        invalid(`chains[${i}]: a 'listing' transcript prints only the process table, so its links must be 'parentage' alone`, { chain: i });
      }
    });
    if (werfaultDecoys > 0) invalid(`a 'listing' transcript cannot have decoys (their evidence is not in the process table)`, { werfaultDecoys });
  }
  const reporters = chains.reduce((n, c) => n + reporterCount(c.fanout), 0) + werfaultDecoys;
  if (reporters > MAX_REPORTERS) invalid(`too many WerFault.exe processes: ${reporters} > ${MAX_REPORTERS}`, { reporters });
  return {
    seed: spec.seed,
    os,
    arch,
    debugger: debuggerKind,
    processes,
    chains,
    wow64: arch === 'x64' && (spec.wow64 ?? false),
    threadsPerProcess: range(spec.threadsPerProcess, [2, 6], 'threadsPerProcess', 1),
    framesPerStack: range(spec.framesPerStack, [8, 16], 'framesPerStack', 1),
    noise,
    werfaultDecoys,
    padToBytes,
    style: spec.style,
  };
}
