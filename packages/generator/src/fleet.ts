import type { ChainSpec, DumpSpec, EvidenceKind, Os, RootStack } from './spec';
import { EVIDENCE_KINDS } from './spec';
import { mixSeed, Prng } from './prng';

/** What a fleet of dumps should look like. Every field but `seed` and `dumps` has a default. */
export interface FleetSpec {
  seed: number;
  /** How many dumps. */
  dumps: number;
  /** Fraction of dumps that hold at least one Error Reporting Fault chain. Default 0.3. */
  findingRate?: number;
  /** Inclusive range of ordinary processes per dump. Default [30, 400]. */
  processes?: readonly [number, number];
  /** Inclusive range of noise per dump. Default [0, 0.3]. */
  noise?: readonly [number, number];
  /** Longest chain. Default 6. */
  maxDepth?: number;
  /** Operating systems to draw from. Default all four, NT 4 rarely. */
  os?: readonly Os[];
  /** Fields forced on every spec (e.g. `{ padToBytes }` for load tests). */
  overrides?: Partial<DumpSpec>;
}

/** One dump of a fleet: a file name and its spec. */
export interface FleetDump {
  name: string;
  spec: DumpSpec;
}

/**
 * A varied, deterministic fleet: OS, architecture, debugger, size, noise, chains (depth,
 * branching, evidence, root present or not, root stack), WOW64 and decoys all vary per dump.
 * Lazy: specs are made as the iterable is read.
 */
export function* generateFleet(fleet: FleetSpec): Generator<FleetDump> {
  const r = new Prng(mixSeed(fleet.seed, 0x464c4545));
  const findingRate = fleet.findingRate ?? 0.3;
  const [pMin, pMax] = fleet.processes ?? [30, 400];
  const [nMin, nMax] = fleet.noise ?? [0, 0.3];
  const maxDepth = Math.max(2, fleet.maxDepth ?? 6);
  const oses: readonly Os[] = fleet.os ?? ['win7', 'win7', 'win10', 'win10', 'win11', 'nt4'];
  const width = String(Math.max(1, fleet.dumps - 1)).length;
  for (let i = 0; i < fleet.dumps; i++) {
    const os = r.pick(oses);
    const arch = os === 'nt4' ? 'x86' : r.chance(0.8) ? 'x64' : 'x86';
    const finding = r.chance(findingRate);
    const chains: ChainSpec[] = [];
    const nChains = finding ? r.int(1, 3) : r.chance(0.3) ? 1 : 0;
    for (let c = 0; c < nChains; c++) {
      const depth = finding && c === 0 ? r.int(2, maxDepth) : r.int(1, finding ? maxDepth : 1);
      const evidence: readonly EvidenceKind[] | 'mixed' = r.chance(0.3) ? 'mixed' : pickEvidence(r);
      const rootPresent = r.chance(0.8);
      const usable = rootPresent || evidence === 'mixed' || evidence.some((k) => k !== 'waiting') ? evidence : (['command-line', 'waiting'] as const);
      chains.push({
        depth,
        branching: r.chance(0.25) ? r.int(2, 4) : undefined,
        evidence: usable,
        rootPresent,
        rootStack: r.pick<RootStack>(['present', 'present', 'paged-out', 'absent']),
      });
    }
    const spec: DumpSpec = {
      seed: mixSeed(fleet.seed, i),
      os,
      arch,
      debugger: r.pick(['kd', 'kd', 'cdb', 'windbg'] as const),
      processes: r.int(pMin, pMax),
      chains,
      wow64: arch === 'x64' && r.chance(0.4),
      threadsPerProcess: [1, r.int(2, 8)],
      framesPerStack: [r.int(4, 8), r.int(10, 24)],
      noise: nMin + r.float() * (nMax - nMin),
      werfaultDecoys: r.chance(0.4) ? r.int(1, 3) : 0,
      ...fleet.overrides,
    };
    yield { name: `dump-${String(i).padStart(width, '0')}-${os}-${arch}.txt`, spec };
  }
}

function pickEvidence(r: Prng): EvidenceKind[] {
  const kinds = EVIDENCE_KINDS.filter(() => r.chance(0.6));
  return kinds.length > 0 ? kinds : [r.pick(EVIDENCE_KINDS)];
}
