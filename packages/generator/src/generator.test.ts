import { createHash } from 'node:crypto';
import { generateFleet, generateTranscript, GeneratorError, isGeneratorError, normalizeSpec, type DumpSpec } from './index';
import { buildPlan } from './plan';
import { ThreadFactory } from './threads';

function digest(spec: DumpSpec, chunkSize?: number): { hash: string; bytes: number; chunks: number[] } {
  const h = createHash('sha256');
  const sizes: number[] = [];
  for (const c of generateTranscript(spec, { chunkSize }).chunks) {
    h.update(c);
    sizes.push(c.length);
  }
  return { hash: h.digest('hex'), bytes: sizes.reduce((a, b) => a + b, 0), chunks: sizes };
}

const STORM: DumpSpec = {
  seed: 42,
  os: 'win7',
  wow64: true,
  processes: 300,
  noise: 0.3,
  werfaultDecoys: 3,
  chains: [
    { depth: 5, evidence: ['command-line', 'parentage', 'waiting'], rootPresent: true, rootStack: 'present' },
    { depth: 2, branching: 4, evidence: 'mixed', rootPresent: false, rootStack: 'absent' },
  ],
};

describe('determinism', () => {
  it('gives the same bytes for the same spec', () => {
    expect(digest(STORM)).toEqual(digest(STORM));
  });

  it('gives other bytes for another seed', () => {
    expect(digest({ ...STORM, seed: 43 }).hash).not.toBe(digest(STORM).hash);
  });

  it('does not depend on the chunk size', () => {
    const a = digest(STORM, 1024);
    const b = digest(STORM, 1 << 20);
    expect(a.hash).toBe(b.hash);
    expect(a.bytes).toBe(b.bytes);
  });

  it('gives the same bytes when the chunks are iterated twice', () => {
    const { chunks } = generateTranscript(STORM);
    const once = [...chunks].join('');
    const twice = [...chunks].join('');
    expect(twice).toBe(once);
  });
});

describe('chunks', () => {
  it('are exactly chunkSize long except the last, which is shorter and not empty', () => {
    const size = 4096;
    const { chunks } = digest({ ...STORM, padToBytes: 300_000 }, size);
    expect(chunks.length).toBeGreaterThan(70);
    for (const c of chunks.slice(0, -1)) expect(c).toBe(size);
    const last = chunks[chunks.length - 1] as number;
    expect(last).toBeGreaterThan(0);
    expect(last).toBeLessThanOrEqual(size);
  });

  it('are plain ASCII, so characters are bytes', () => {
    const text = [...generateTranscript({ ...STORM, noise: 1 }).chunks].join('');
    expect(/[^\x00-\x7f]/.test(text)).toBe(false);
  });

  it('rejects a chunk size below 1 KiB', () => {
    expect(() => generateTranscript(STORM, { chunkSize: 100 })).toThrow(GeneratorError);
  });
});

describe('streaming', () => {
  it('streams a 50 MB transcript with a bounded heap', () => {
    // The bound is a sanity check (V8 decides when to collect), not a measurement.
    const target = 50 * 1024 * 1024;
    const spec: DumpSpec = { seed: 7, os: 'win10', processes: 2000, chains: [{ depth: 6, branching: 3 }], werfaultDecoys: 5, padToBytes: target };
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    let bytes = 0;
    let n = 0;
    const { chunks, answer } = generateTranscript(spec);
    for (const c of chunks) {
      bytes += c.length;
      if (++n % 64 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(bytes).toBeGreaterThanOrEqual(target);
    expect(bytes).toBeLessThan(target + 2 * 1024 * 1024);
    expect(answer.processes).toBe(2000 + 1 + 8 + 5);
    expect(peak - before).toBeLessThan(120 * 1024 * 1024);
  });

  it('computes the answer without producing text', () => {
    const { answer } = generateTranscript({ seed: 1, processes: 20_000, chains: [{ depth: 1000, branching: 50 }], padToBytes: 1e12 });
    expect(answer.processes).toBe(20_000 + 1 + 999 + 50);
    expect(answer.chains).toHaveLength(50);
  });
});

describe('the answer follows the spec', () => {
  it('counts processes, WerFault.exe processes and chains', () => {
    const { answer } = generateTranscript(STORM);
    // 300 ordinary + 1 present root + (5) + (1 + 4) reporters + 3 decoys
    expect(answer.werFaultProcesses).toBe(5 + 5 + 3);
    expect(answer.processes).toBe(300 + 1 + 13);
    const planted = answer.chains.filter((c) => !c.decoy);
    expect(planted).toHaveLength(1 + 4);
    expect(planted[0]?.reporters).toHaveLength(5);
    for (const c of planted.slice(1)) expect(c.reporters).toHaveLength(2);
    expect(answer.chains.filter((c) => c.decoy)).toHaveLength(3);
    expect(answer.findings).toBe(true);
  });

  it('describes the root as the spec says', () => {
    const { answer } = generateTranscript(STORM);
    const [first, second] = answer.chains;
    expect(first?.root).toMatchObject({ present: true, hasExceptionStack: true });
    expect(typeof first?.root.image).toBe('string');
    expect(second?.root).toEqual({ pid: second?.root.pid, image: null, present: false, hasExceptionStack: false });
  });

  it('has one evidence list per link, sorted, never waiting on an absent root', () => {
    const { answer } = generateTranscript(STORM);
    for (const c of answer.chains) {
      expect(c.evidence).toHaveLength(c.reporters.length);
      for (const kinds of c.evidence) {
        expect(kinds.length).toBeGreaterThan(0);
        expect([...kinds].sort()).toEqual(kinds);
      }
      if (!c.root.present) expect(c.evidence[0]).not.toContain('waiting');
    }
  });

  it('shares the prefix of a branching chain', () => {
    const { answer } = generateTranscript({ seed: 5, processes: 20, chains: [{ depth: 3, branching: [2, 1, 3] }] });
    expect(answer.chains).toHaveLength(6);
    expect(new Set(answer.chains.map((c) => c.reporters[0])).size).toBe(2);
    expect(new Set(answer.chains.map((c) => c.reporters[2])).size).toBe(6);
    expect(answer.werFaultProcesses).toBe(2 + 2 + 6);
  });

  it('is not a finding for lone reporters and decoys', () => {
    const { answer } = generateTranscript({ seed: 6, processes: 50, chains: [{ depth: 1 }], werfaultDecoys: 2 });
    expect(answer.findings).toBe(false);
    expect(answer.chains.every((c) => !c.finding && c.reporters.length === 1)).toBe(true);
  });

  it('keeps pids, tids and kernel addresses unique', () => {
    const plan = buildPlan(normalizeSpec({ ...STORM, processes: 3000 }));
    const threads = new ThreadFactory(plan);
    const cids = new Set<number>();
    const addrs = new Set<string>();
    let n = 0;
    for (const p of plan.processes) {
      cids.add(p.pid);
      addrs.add(p.addrText);
      n++;
      for (let t = 0; t < p.threadCount; t++) {
        const info = threads.thread(p, t);
        cids.add(info.tid);
        addrs.add(info.addrText);
        n++;
      }
    }
    expect(cids.size).toBe(n);
    expect(addrs.size).toBe(n);
    const roots = plan.chains.filter((c) => c.rootIndex < 0).map((c) => c.rootPid);
    for (const r of roots) expect(cids.has(r)).toBe(false);
    expect(plan.processes.every((p) => p.pid % 4 === 0)).toBe(true);
  });
});

describe('spec validation', () => {
  const bad: Array<[string, unknown]> = [
    ['depth 0', { seed: 1, chains: [{ depth: 0 }] }],
    ['unknown os', { seed: 1, os: 'win95' }],
    ['noise above 1', { seed: 1, noise: 2 }],
    ['negative processes', { seed: 1, processes: -1 }],
    ['empty evidence', { seed: 1, chains: [{ depth: 2, evidence: [] }] }],
    ['branching array of the wrong length', { seed: 1, chains: [{ depth: 2, branching: [1] }] }],
    ['absent root linked by waiting alone', { seed: 1, chains: [{ depth: 2, evidence: ['waiting'], rootPresent: false }] }],
    ['no seed', {}],
  ];
  it.each(bad)('rejects %s with INVALID_SPEC (bad input on purpose)', (_name, spec) => {
    let caught: unknown;
    try {
      generateTranscript(spec as DumpSpec);
    } catch (e) {
      caught = e;
    }
    expect(isGeneratorError(caught)).toBe(true);
    expect((caught as GeneratorError).code).toBe('INVALID_SPEC');
    expect((caught as GeneratorError).retriable).toBe(false);
  });

  it('applies defaults', () => {
    const n = normalizeSpec({ seed: 3 });
    expect(n).toMatchObject({ os: 'win7', arch: 'x64', debugger: 'kd', processes: 40, chains: [], wow64: false, noise: 0, werfaultDecoys: 0 });
    expect(normalizeSpec({ seed: 3, os: 'nt4', wow64: true }).arch).toBe('x86');
    expect(normalizeSpec({ seed: 3, arch: 'x86', wow64: true }).wow64).toBe(false);
  });
});

describe('generateFleet', () => {
  it('is deterministic, lazy and varied', () => {
    const a = [...generateFleet({ seed: 9, dumps: 40 })];
    const b = [...generateFleet({ seed: 9, dumps: 40 })];
    expect(a).toEqual(b);
    expect(new Set(a.map((d) => d.name)).size).toBe(40);
    expect(new Set(a.map((d) => d.spec.os)).size).toBeGreaterThan(2);
    expect(a.some((d) => d.spec.wow64)).toBe(true);
    const findings = a.filter((d) => generateTranscript(d.spec).answer.findings).length;
    expect(findings).toBeGreaterThan(3);
    expect(findings).toBeLessThan(40);
  });

  it('produces specs that generate', () => {
    for (const d of generateFleet({ seed: 10, dumps: 12, processes: [5, 30], overrides: { padToBytes: 0 } })) {
      const { chunks, answer } = generateTranscript(d.spec);
      let bytes = 0;
      for (const c of chunks) bytes += c.length;
      expect(bytes).toBeGreaterThan(1000);
      expect(answer.processes).toBeGreaterThanOrEqual(5);
    }
  });
});

describe("the 'listing' style", () => {
  const LISTING: DumpSpec = {
    seed: 5, os: 'win10', style: 'listing', processes: 30, padToBytes: 60_000,
    chains: [{ depth: 3, branching: 2, evidence: ['parentage'], rootStack: 'paged-out' }, { depth: 2, evidence: ['parentage'] }],
  };

  it('prints the process table alone, again until the size, every pid of the answer in it', () => {
    const text = [...generateTranscript(LISTING).chunks].join('');
    const { answer } = generateTranscript(LISTING);
    expect(text.length).toBeGreaterThanOrEqual(60_000);
    const commands = text.split('\n').filter((l) => /kd> /.test(l));
    expect(commands.length).toBeGreaterThan(1);
    expect(new Set(commands.map((l) => l.replace(/^.*kd> /, '')))).toEqual(new Set(['!process 0 0']));
    expect(text).not.toMatch(/THREAD|ChildEBP|Child-SP|!peb/);
    const listed = text.split('**** NT ACTIVE PROCESS DUMP ****')[1] as string;
    expect(listed.match(/^PROCESS /gm)?.length).toBe(answer.processes);
    for (const c of answer.chains) {
      expect(c.root.hasExceptionStack).toBe(false);
      expect(c.evidence.every((e) => e.length === 1 && e[0] === 'parentage')).toBe(true);
    }
  });

  it('rejects evidence the process table cannot show, and decoys', () => {
    expect(() => normalizeSpec({ ...LISTING, chains: [{ depth: 2, evidence: 'mixed' }] })).toThrow(GeneratorError);
    expect(() => normalizeSpec({ ...LISTING, chains: [{ depth: 2 }] })).toThrow(GeneratorError);
    expect(() => normalizeSpec({ ...LISTING, werfaultDecoys: 1 })).toThrow(GeneratorError);
  });
});
