/**
 * The fleet a fault scenario submits: generated transcripts (packages/generator), a few of them
 * large, written once into a cache folder and reused by every scenario and run. Scale with
 * FAULTS_FLEET (default 40; `npm run test:faults` sets 200).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateFleet, writeTranscript, type DumpSpec } from '@dumpstream/generator';

export interface FleetFile {
  file: string;
  name: string;
  /** sha256 of the bytes: the dumpId its report must carry. */
  dumpId: string;
  bytes: number;
}

/** How many dumps a scenario submits. */
export function fleetSize(): number {
  const n = Number(process.env.FAULTS_FLEET ?? 40);
  if (!Number.isInteger(n) || n < 4) throw new Error(`FAULTS_FLEET=${process.env.FAULTS_FLEET}: expected a whole number of at least 4`);
  return n;
}

/** Every 50th dump (from the 10th) is a large one: thousands of processes, ~10 MB. */
const LARGE: Partial<DumpSpec> = { processes: 4000, chains: [{ depth: 7, branching: 4 }], threadsPerProcess: [3, 8] };

/** Writes (once) and returns the fleet of `n` dumps. Deterministic: the same n gives the same bytes. */
export async function faultFleet(n = fleetSize()): Promise<FleetFile[]> {
  const root = process.env.DUMPSTREAM_CACHE ?? path.join(os.homedir(), '.cache', 'dumpstream');
  const dir = path.join(root, 'faults', `fleet-${n}`);
  mkdirSync(dir, { recursive: true });
  const out: FleetFile[] = [];
  let i = 0;
  for (const d of generateFleet({ seed: 20260, dumps: n, processes: [30, 250], findingRate: 0.4 })) {
    const large = i % 50 === 10;
    const name = large ? d.name.replace(/\.txt$/, '-large.txt') : d.name;
    const file = path.join(dir, name);
    if (!existsSync(file)) {
      await writeTranscript(large ? { ...d.spec, ...LARGE } : d.spec, `${file}.part`, { answer: false });
      renameSync(`${file}.part`, file);
    }
    const bytes = readFileSync(file);
    out.push({ file, name, dumpId: createHash('sha256').update(bytes).digest('hex'), bytes: statSync(file).size });
    i++;
  }
  return out;
}

/**
 * A large transcript that is not part of the fleet (~10 MB), for uploads that are meant to fail
 * midway. Written once.
 */
export async function victimTranscript(i: number): Promise<FleetFile> {
  const root = process.env.DUMPSTREAM_CACHE ?? path.join(os.homedir(), '.cache', 'dumpstream');
  const dir = path.join(root, 'faults', 'victims');
  mkdirSync(dir, { recursive: true });
  const name = `victim-${i}.txt`;
  const file = path.join(dir, name);
  if (!existsSync(file)) {
    await writeTranscript({ seed: 9000 + i, processes: 4000, chains: [{ depth: 5, branching: 3 }], threadsPerProcess: [3, 8] }, `${file}.part`, { answer: false });
    renameSync(`${file}.part`, file);
  }
  const bytes = readFileSync(file);
  return { file, name, dumpId: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}
