#!/usr/bin/env node
/**
 * `node packages/generator/dist/cli.js --seed 1 --processes 5000 --chains 3x4 --size 200MB --out file.txt`
 * writes a synthetic transcript and `file.txt.answer.json` beside it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GeneratorError, isGeneratorError } from './errors';
import { generateFleet } from './fleet';
import type { ChainSpec, DumpSpec, EvidenceKind, RootStack } from './spec';
import { EVIDENCE_KINDS } from './spec';
import { writeTranscript } from './write';

/** What the command line asks for. */
export interface CliRequest {
  spec: DumpSpec;
  out: string | null;
  /** Write a fleet of this many dumps into the directory `out` instead of one transcript. */
  fleet: number;
  chunkSize: number | undefined;
  quiet: boolean;
  help: boolean;
}

/** Usage text printed by `--help`. */
export const USAGE = `Usage: node packages/generator/dist/cli.js [options] --out FILE

Writes a synthetic kd/cdb/WinDbg transcript to FILE and its known answer to FILE.answer.json.

  --seed N            seed (default 1)
  --os OS             win7 | win10 | win11 | nt4 (default win7)
  --arch A            x64 | x86 (default x64)
  --debugger D        kd | cdb | windbg (default kd)
  --style S           investigation | full | listing (default: from the seed); listing is the
                      process table alone (!process 0 0), re-printed up to --size; it needs
                      --evidence parentage and no --decoys
  --processes N       ordinary processes (default 40)
  --chains LIST       comma-separated chains: NxD (N chains of depth D), D, with :B for B leaves
                      at the last level, e.g. 3x4 or 2x5:3,1 (default none)
  --evidence LIST     command-line,parentage,waiting or mixed (default all three)
  --root-absent       the root process is not in the dump
  --root-stack S      present | paged-out | absent (default present)
  --wow64             32-bit reporters (SysWOW64, :x86 prompts)
  --threads N|A-B     threads per ordinary process (default 2-6)
  --frames N|A-B      frames per ordinary stack (default 8-16)
  --noise X           0..1 (default 0)
  --decoys N          WerFault.exe processes reporting on ordinary processes (default 0)
  --size SIZE         pad to at least SIZE bytes (e.g. 200MB, 1.5GiB, 64KB)
  --chunk-size SIZE   chunk size of the stream (default 64KiB)
  --fleet N           write N varied dumps into the directory --out instead
  --quiet             print nothing on success
  --help              this text`;

/**
 * Parses a size: a number with an optional unit (B, KB/MB/GB = powers of 1000, KiB/MiB/GiB =
 * powers of 1024; a bare K/M/G counts as KiB/MiB/GiB).
 * @throws GeneratorError `INVALID_ARGUMENT` for anything else.
 */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?)(B?)\s*$/i.exec(text);
  if (!m) throw new GeneratorError('INVALID_ARGUMENT', `not a size: ${text}`, { text });
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toUpperCase();
  const binary = m[3] !== '' || (m[4] === '' && unit !== '');
  const power = ['', 'K', 'M', 'G', 'T'].indexOf(unit);
  return Math.round(n * (binary ? 1024 : 1000) ** power);
}

function parseRange(text: string, name: string): number | [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new GeneratorError('INVALID_ARGUMENT', `${name} must be N or A-B, got ${text}`);
  return m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
}

/**
 * Parses `--chains`: `3x4` (three chains of depth 4), `2x5:3` (two of depth 5 forking into 3
 * leaves), `4` (one of depth 4), comma-separated.
 * @throws GeneratorError `INVALID_ARGUMENT` for anything else.
 */
export function parseChains(text: string, base: Omit<ChainSpec, 'depth' | 'branching'>): ChainSpec[] {
  const out: ChainSpec[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^(?:(\d+)x)?(\d+)(?::(\d+))?$/.exec(part);
    if (!m) throw new GeneratorError('INVALID_ARGUMENT', `--chains item must be NxD, D or NxD:B, got ${part}`);
    const count = m[1] === undefined ? 1 : Number(m[1]);
    for (let i = 0; i < count; i++) out.push({ ...base, depth: Number(m[2]), ...(m[3] === undefined ? {} : { branching: Number(m[3]) }) });
  }
  return out;
}

/**
 * Parses the command line (without `node` and the script).
 * @throws GeneratorError `INVALID_ARGUMENT` for an unknown flag or a bad value.
 */
export function parseArgs(argv: readonly string[]): CliRequest {
  const spec: DumpSpec = { seed: 1 };
  let out: string | null = null;
  let fleet = 0;
  let chunkSize: number | undefined;
  let quiet = false;
  let help = false;
  let chainsText: string | null = null;
  let evidence: readonly EvidenceKind[] | 'mixed' = EVIDENCE_KINDS;
  let rootPresent = true;
  let rootStack: RootStack = 'present';
  const num = (v: string, name: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new GeneratorError('INVALID_ARGUMENT', `${name} needs a number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new GeneratorError('INVALID_ARGUMENT', `${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--seed': spec.seed = num(value(), flag); break;
      case '--os': spec.os = value() as DumpSpec['os']; break;
      case '--arch': spec.arch = value() as DumpSpec['arch']; break;
      case '--debugger': spec.debugger = value() as DumpSpec['debugger']; break;
      case '--style': spec.style = value() as DumpSpec['style']; break;
      case '--processes': spec.processes = num(value(), flag); break;
      case '--chains': chainsText = value(); break;
      case '--evidence': {
        const v = value();
        evidence = v === 'mixed' ? 'mixed' : (v.split(',').map((s) => s.trim()) as EvidenceKind[]);
        break;
      }
      case '--root-absent': rootPresent = false; break;
      case '--root-stack': rootStack = value() as RootStack; break;
      case '--wow64': spec.wow64 = true; break;
      case '--threads': spec.threadsPerProcess = parseRange(value(), flag); break;
      case '--frames': spec.framesPerStack = parseRange(value(), flag); break;
      case '--noise': spec.noise = num(value(), flag); break;
      case '--decoys': spec.werfaultDecoys = num(value(), flag); break;
      case '--size': spec.padToBytes = parseSize(value()); break;
      case '--chunk-size': chunkSize = parseSize(value()); break;
      case '--fleet': fleet = num(value(), flag); break;
      case '--out': out = value(); break;
      case '--quiet': quiet = true; break;
      case '--help': case '-h': help = true; break;
      default: throw new GeneratorError('INVALID_ARGUMENT', `unknown option: ${flag}`);
    }
  }
  if (chainsText !== null) spec.chains = parseChains(chainsText, { evidence, rootPresent, rootStack });
  return { spec, out, fleet, chunkSize, quiet, help };
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let req: CliRequest;
  try {
    req = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (req.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (req.out === null) {
    process.stderr.write(`--out is required\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const started = process.hrtime.bigint();
    let bytes = 0;
    if (req.fleet > 0) {
      await mkdir(req.out, { recursive: true });
      const { seed, padToBytes } = req.spec;
      for (const d of generateFleet({ seed, dumps: req.fleet, overrides: padToBytes ? { padToBytes } : {} })) {
        const w = await writeTranscript(d.spec, join(req.out, d.name), { chunkSize: req.chunkSize });
        bytes += w.bytes;
      }
    } else {
      const w = await writeTranscript(req.spec, req.out, { chunkSize: req.chunkSize });
      bytes = w.bytes;
      if (!req.quiet) {
        const a = w.answer;
        process.stderr.write(`${a.processes} processes, ${a.werFaultProcesses} WerFault.exe, ${a.chains.filter((c) => c.finding).length} finding chain(s)\n`);
      }
    }
    if (!req.quiet) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      process.stderr.write(`wrote ${bytes} bytes in ${seconds.toFixed(2)} s (${(bytes / 1e6 / seconds).toFixed(1)} MB/s) to ${req.out}\n`);
    }
    return 0;
  } catch (e) {
    process.stderr.write(`${isGeneratorError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
    return isGeneratorError(e) ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
