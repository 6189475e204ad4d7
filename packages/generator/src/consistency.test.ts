/**
 * The text agrees with the KnownAnswer. A deliberately small reader (regexes over lines, not the
 * project's parser) recovers processes, parentage, command lines, ProcessObject waits and
 * exception stacks from generated transcripts and checks every link of every chain: the evidence
 * the answer lists is printed, and the evidence it leaves out is not.
 */
import { generateTranscript, type ChainSpec, type DumpSpec, type EvidenceKind, type KnownAnswer } from './index';

interface ProcessSeen {
  addr: string;
  pid: number;
  ppid: number;
  image: string;
}

interface TextFacts {
  byAddr: Map<string, ProcessSeen>;
  byPid: Map<number, ProcessSeen>;
  /** pid of the implicit process → command lines printed by !peb. */
  commandLines: Map<number, string[]>;
  /** waiter pid → EPROCESS addresses waited on as ProcessObject. */
  waits: Map<number, Set<string>>;
  /** pids with an exception stack (KiUserExceptionDispatch… under one of their threads). */
  exceptionStacks: Set<number>;
  /** pids with a thread printed as `Kernel stack not resident.`. */
  notResident: Set<number>;
  prompts: number;
}

const PROMPT = /^(?:\d+: )?kd(?::x86)?> (.*)$/;

function clean(text: string): string[] {
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.replace(/<span[^>]*>/g, '').replace(/<\/span>/g, '').replace(/\t/g, '    ').replace(/^0:000>/, ''));
}

/** Reads the facts the answer talks about out of the text. */
function readFacts(text: string): TextFacts {
  const f: TextFacts = { byAddr: new Map(), byPid: new Map(), commandLines: new Map(), waits: new Map(), exceptionStacks: new Set(), notResident: new Set(), prompts: 0 };
  const threadOwner = new Map<string, number>(); // ETHREAD → pid
  const pendingStacks: Array<{ thread: string; kind: 'exc' | 'nr' }> = [];
  const pendingCommandLines: Array<{ addr: string; text: string }> = [];
  let implicitProcess = '';
  let implicitThread = '';
  let currentThreadPid = -1;
  let currentThreadAddr = '';
  let inWaitList = false;
  let proc: Partial<ProcessSeen> | null = null;
  const finishProc = (): void => {
    if (proc && proc.addr && proc.pid !== undefined && proc.image) {
      const p = proc as ProcessSeen;
      const prev = f.byAddr.get(p.addr);
      if (prev && (prev.pid !== p.pid || prev.ppid !== p.ppid || prev.image !== p.image)) throw new Error(`process ${p.addr} printed inconsistently`);
      f.byAddr.set(p.addr, p);
      const other = f.byPid.get(p.pid);
      if (other && other.addr !== p.addr) throw new Error(`pid ${p.pid} has two EPROCESS addresses`);
      f.byPid.set(p.pid, p);
    }
    proc = null;
  };
  const markStack = (kind: 'exc' | 'nr', thread: string, pid: number): void => {
    if (pid >= 0) (kind === 'exc' ? f.exceptionStacks : f.notResident).add(pid);
    else pendingStacks.push({ thread, kind });
  };
  let stackOwner: { thread: string; pid: number } = { thread: '', pid: -1 };
  for (const line of clean(text)) {
    const pm = PROMPT.exec(line);
    if (pm) {
      finishProc();
      f.prompts++;
      inWaitList = false;
      currentThreadPid = -1;
      const cmd = (pm[1] as string).trim();
      let m = /^\.process \/r \/p ([0-9a-f`]+)$/.exec(cmd);
      if (m) implicitProcess = (m[1] as string).replace('`', '');
      m = /^\.thread (?:\/w )?([0-9a-f`]+)$/.exec(cmd);
      if (m) implicitThread = (m[1] as string).replace('`', '');
      if (/^k[bn]?$/.test(cmd)) stackOwner = { thread: implicitThread, pid: threadOwner.get(implicitThread) ?? f.byAddr.get(implicitProcess)?.pid ?? -1 };
      continue;
    }
    let m = /^PROCESS ([0-9a-f]{8,16})(?:\s+(?:SessionId: \S+\s+)?Cid: ([0-9a-f]+)\s+Peb: [0-9a-f]+\s+ParentCid: ([0-9a-f]+))?\s*$/.exec(line);
    if (m) {
      finishProc();
      proc = { addr: m[1] as string };
      if (m[2]) {
        proc.pid = parseInt(m[2], 16);
        proc.ppid = parseInt(m[3] as string, 16);
      }
      inWaitList = false;
      currentThreadPid = -1;
      continue;
    }
    if (proc && proc.image === undefined) {
      m = /^\s*SessionId: \S+\s+Cid: ([0-9a-f]+)\s+Peb: [0-9a-f]+\s+ParentCid: ([0-9a-f]+)$/.exec(line);
      if (m) {
        proc.pid = parseInt(m[1] as string, 16);
        proc.ppid = parseInt(m[2] as string, 16);
        continue;
      }
      m = /^\s*Image: (\S+)$/.exec(line);
      if (m) {
        proc.image = m[1] as string;
        finishProc();
        continue;
      }
    }
    m = /^\s*THREAD ([0-9a-f]{8,16})\s+Cid ([0-9a-f]+)\.([0-9a-f]+)\s/.exec(line);
    if (m) {
      currentThreadAddr = m[1] as string;
      currentThreadPid = parseInt(m[2] as string, 16);
      threadOwner.set(currentThreadAddr, currentThreadPid);
      stackOwner = { thread: currentThreadAddr, pid: currentThreadPid };
      inWaitList = true;
      continue;
    }
    if (inWaitList) {
      m = /^\s*([0-9a-f]{8,16})\s+(\S.*)$/.exec(line);
      if (m && !/^[0-9a-f]{8,16}\s+[0-9a-f]{8,16}/.test(line.trim()) && !line.includes('`')) {
        if (m[2] === 'ProcessObject') {
          const set = f.waits.get(currentThreadPid) ?? new Set<string>();
          set.add(m[1] as string);
          f.waits.set(currentThreadPid, set);
        }
        continue;
      }
      inWaitList = false;
    }
    m = /^\s*CommandLine:\s+'(.*)'$/.exec(line);
    if (m) {
      pendingCommandLines.push({ addr: implicitProcess, text: m[1] as string });
      continue;
    }
    if (/KiUserExceptionDispatch/.test(line)) markStack('exc', stackOwner.thread, stackOwner.pid);
    else if (/Kernel stack not resident\./.test(line)) markStack('nr', stackOwner.thread, stackOwner.pid);
  }
  finishProc();
  for (const c of pendingCommandLines) {
    const p = f.byAddr.get(c.addr);
    if (!p) throw new Error(`CommandLine for an unknown implicit process ${c.addr}`);
    f.commandLines.set(p.pid, [...(f.commandLines.get(p.pid) ?? []), c.text]);
  }
  for (const s of pendingStacks) {
    const pid = threadOwner.get(s.thread);
    if (pid === undefined) throw new Error(`stack of an unknown thread ${s.thread}`);
    (s.kind === 'exc' ? f.exceptionStacks : f.notResident).add(pid);
  }
  return f;
}

function expectConsistent(text: string, answer: KnownAnswer): void {
  const f = readFacts(text);
  expect(f.byPid.size).toBe(answer.processes);
  expect([...f.byPid.values()].filter((p) => p.image === 'WerFault.exe').length).toBe(answer.werFaultProcesses);
  for (const chain of answer.chains) {
    const root = f.byPid.get(chain.root.pid);
    expect(root !== undefined).toBe(chain.root.present);
    if (root) expect(root.image).toBe(chain.root.image);
    expect(f.exceptionStacks.has(chain.root.pid)).toBe(chain.root.hasExceptionStack);
    let reported = chain.root.pid;
    chain.reporters.forEach((pid, i) => {
      const r = f.byPid.get(pid);
      expect(r?.image).toBe('WerFault.exe');
      const kinds = chain.evidence[i] as EvidenceKind[];
      const seen: EvidenceKind[] = [];
      if (f.commandLines.get(pid)?.some((c) => new RegExp(`WerFault\\.exe .*-p ${reported}(?: |$)`).test(c))) seen.push('command-line');
      if (r?.ppid === reported) seen.push('parentage');
      if (r && f.waits.get(reported)?.has(r.addr)) seen.push('waiting');
      expect({ link: `${reported} <- ${pid}`, evidence: seen }).toEqual({ link: `${reported} <- ${pid}`, evidence: kinds });
      reported = pid;
    });
  }
}

function textOf(spec: DumpSpec): { text: string; answer: KnownAnswer } {
  const { chunks, answer } = generateTranscript(spec);
  let text = '';
  for (const c of chunks) text += c;
  return { text, answer };
}

const ALL: EvidenceKind[] = ['command-line', 'parentage', 'waiting'];
const chain = (over: Partial<ChainSpec> = {}): ChainSpec => ({ depth: 3, evidence: ALL, rootPresent: true, rootStack: 'present', ...over });

describe('generated text agrees with the known answer', () => {
  const cases: Array<[string, DumpSpec]> = [
    ['win7 x64 kd, all evidence', { seed: 11, os: 'win7', processes: 60, chains: [chain()] }],
    ['win7 x64 WOW64 (seed shape)', { seed: 12, os: 'win7', wow64: true, processes: 40, chains: [chain({ depth: 4 })] }],
    ['win10 cdb full style', { seed: 13, os: 'win10', debugger: 'cdb', style: 'full', processes: 50, chains: [chain()] }],
    ['win11 windbg investigation, branching', { seed: 14, os: 'win11', debugger: 'windbg', style: 'investigation', processes: 30, chains: [chain({ depth: 3, branching: 3 })] }],
    ['x86 win7', { seed: 15, os: 'win7', arch: 'x86', processes: 30, chains: [chain({ rootStack: 'paged-out' })] }],
    ['nt4', { seed: 16, os: 'nt4', processes: 12, chains: [chain({ depth: 2 })] }],
    ['tree shape', { seed: 17, os: 'win10', processes: 20, chains: [chain({ depth: 3, branching: [2, 1, 2] })] }],
    ['absent root by command line', { seed: 18, processes: 20, chains: [chain({ rootPresent: false, evidence: ['command-line'] })] }],
    ['absent root by parentage', { seed: 19, os: 'win10', processes: 20, chains: [chain({ rootPresent: false, evidence: ['parentage'] })] }],
    ['waiting only, stack absent', { seed: 20, os: 'win10', wow64: true, processes: 20, chains: [chain({ evidence: ['waiting'], rootStack: 'absent' })] }],
    ['mixed evidence, decoys', { seed: 21, os: 'win10', processes: 80, chains: [chain({ evidence: 'mixed', depth: 5 }), chain({ depth: 1 })], werfaultDecoys: 4 }],
    ['noisy', { seed: 22, os: 'win7', wow64: true, processes: 60, noise: 1, chains: [chain({ evidence: 'mixed', depth: 4, branching: 2 })], werfaultDecoys: 2 }],
    ['noisy full style', { seed: 23, os: 'win10', style: 'full', processes: 60, noise: 0.8, chains: [chain({ depth: 3 })], werfaultDecoys: 2 }],
  ];
  it.each(cases)('%s', (_name, spec) => {
    const { text, answer } = textOf(spec);
    expectConsistent(text, answer);
  });

  it('holds over many seeds of a varied spec', () => {
    for (let seed = 100; seed < 140; seed++) {
      const os = (['win7', 'win10', 'win11', 'nt4'] as const)[seed % 4];
      const spec: DumpSpec = {
        seed,
        os,
        arch: seed % 5 === 0 ? 'x86' : 'x64',
        debugger: (['kd', 'cdb', 'windbg'] as const)[seed % 3],
        wow64: seed % 2 === 0,
        processes: 10 + (seed % 7) * 5,
        noise: (seed % 4) / 4,
        werfaultDecoys: seed % 3,
        chains: [chain({ evidence: 'mixed', depth: 1 + (seed % 4), rootPresent: seed % 3 !== 0, rootStack: (['present', 'paged-out', 'absent'] as const)[seed % 3] })],
      };
      const { text, answer } = textOf(spec);
      expectConsistent(text, answer);
    }
  });

  it('pads without changing any fact', () => {
    const spec: DumpSpec = { seed: 31, os: 'win10', processes: 25, chains: [chain()], werfaultDecoys: 1 };
    const plain = textOf(spec);
    const padded = textOf({ ...spec, padToBytes: plain.text.length * 3 });
    expect(padded.answer).toEqual(plain.answer);
    expect(padded.text.length).toBeGreaterThanOrEqual(plain.text.length * 3);
    expectConsistent(padded.text, padded.answer);
  });
});
