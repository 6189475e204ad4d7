/**
 * Generated transcripts (packages/generator) against their known answers: a varied fleet (OS,
 * architecture, debugger, noise, chain depth, branching, evidence kinds, roots present or not,
 * paged-out stacks, WOW64, decoys), each analysed by the embedded pipeline.
 */
import { analyzeTranscript } from '@dumpstream/cli';
import { generateFleet, generateTranscript, type KnownAnswer } from '@dumpstream/generator';
import type { Report } from '@dumpstream/report';

async function analyze(name: string, chunks: Iterable<string>, maxLines?: number): Promise<Report> {
  return analyzeTranscript(name, (async function* () {
    for (const c of chunks) yield Buffer.from(c);
  })(), maxLines ? { segmenter: { maxLines } } : {});
}

/** The report's findings in the answer's terms, sorted for comparison. */
function chainsOf(r: Report) {
  return (r.findings[0]?.chains ?? [])
    .map((c) => ({ root: { pid: c.root.pid, image: c.root.image, present: c.root.present, hasExceptionStack: c.root.exceptionStack !== null }, reporters: c.reporters, evidence: c.evidence.map((e) => [...e].sort()) }))
    .sort((a, b) => a.reporters.join().localeCompare(b.reporters.join()));
}

function expectedChains(a: KnownAnswer) {
  return a.chains
    .filter((c) => c.finding)
    .map((c) => ({ root: c.root, reporters: c.reporters, evidence: c.evidence.map((e) => [...e].sort()) }))
    .sort((x, y) => x.reporters.join().localeCompare(y.reporters.join()));
}

const fleet = [...generateFleet({ seed: 7, dumps: 60, processes: [20, 120] })];

describe('generated fleet', () => {
  it.each(fleet.map((d) => [d.name, d] as const))('%s matches its known answer', async (_name, d) => {
    const { chunks, answer } = generateTranscript(d.spec);
    const r = await analyze(d.name, chunks, 500);
    expect(r.processes.filter((p) => p.pid !== null && p.image !== null).length).toBeGreaterThanOrEqual(answer.processes);
    expect(r.findings.length > 0).toBe(answer.findings);
    if (answer.findings) {
      expect(r.findings[0].werFaultProcesses).toBe(answer.werFaultProcesses);
      expect(chainsOf(r)).toEqual(expectedChains(answer));
    }
  });

  it('finds a deep, wide storm of over a thousand WerFault.exe', async () => {
    const spec = { seed: 99, processes: 300, chains: [{ depth: 40, branching: 3 }, { depth: 6, branching: [1, 4, 4, 4, 4, 3] }], wow64: true, noise: 0.2 };
    const { chunks, answer } = generateTranscript(spec);
    const r = await analyze('storm', chunks);
    expect(answer.werFaultProcesses).toBeGreaterThan(1000);
    expect(r.findings[0].werFaultProcesses).toBe(answer.werFaultProcesses);
    expect(r.findings[0].severity).toBe('critical');
    expect(chainsOf(r)).toEqual(expectedChains(answer));
  });
});
