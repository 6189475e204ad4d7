/**
 * Hostile and broken inputs for test/faults/hostile: each written once into a cache folder (the
 * large ones stream to disk), with what the service must do with it.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

const SEED = path.resolve(__dirname, '..', '..', 'fixtures', 'seed-error-reporting-fault.txt');

/** What the service must answer: an error with this status and code, or a report. */
export type Expect = { status: number; code: string } | { status: 202; report: 'equal-to-analyze' | 'processes-only' };

export interface HostileInput {
  name: string;
  what: string;
  file: string;
  /** Sent with Content-Encoding: gzip as is (the file is gzip). */
  gzip?: boolean;
  expect: Expect;
}

function dir(): string {
  const root = process.env.DUMPSTREAM_CACHE ?? path.join(os.homedir(), '.cache', 'dumpstream');
  const d = path.join(root, 'faults', 'hostile');
  mkdirSync(d, { recursive: true });
  return d;
}

/** Writes `file` once from `chunks` (strings or buffers), through a temporary name. */
async function once(file: string, chunks: () => Iterable<string | Buffer>): Promise<string> {
  if (existsSync(file)) return file;
  const out = createWriteStream(`${file}.part`);
  for (const c of chunks()) if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  renameSync(`${file}.part`, file);
  return file;
}

const hex = (n: number, w = 8) => n.toString(16).padStart(w, '0');

/** One `!process … ff`-style block, optionally with a thread waiting on a process and a `!peb` command line. */
function block(o: { addr: number; cid: string; parent: string; image: string; waitOn?: number; commandLine?: string }): string {
  const a = `ffffa000${hex(o.addr)}`;
  let s = `PROCESS ${a}\n    SessionId: 1  Cid: ${o.cid}    Peb: 7efdf000  ParentCid: ${o.parent}\n    DirBase: 1aa00002  ObjectTable: ffffc00012345670  HandleCount:  42.\n    Image: ${o.image}\n\n`;
  if (o.waitOn !== undefined) {
    s += `        THREAD ffffa000${hex(o.addr + 0x40)}  Cid ${o.cid}.0104  Teb: 000000007efdb000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable\n            ffffa000${hex(o.waitOn)}  ProcessObject\n\n`;
  }
  if (o.commandLine) s += `0: kd> .process /r /p ${a}\nImplicit process is now ${a.slice(0, 8)}\`${a.slice(8)}\n0: kd> !peb\nPEB at 000000007efdf000\n    CommandLine:  '${o.commandLine}'\n\n`;
  return s;
}

const WER = (pid: string) => `C:\\Windows\\System32\\WerFault.exe -u -p ${pid} -s 1234`;
const HEADER = 'Microsoft (R) Windows Debugger Version 10.0.22621.2428 AMD64\nKernel Complete Dump File: Full address space is available\n\n0: kd> !process 0 ff\n**** NT ACTIVE PROCESS DUMP ****\n';

/** `n` minimal process blocks (5 lines each), written in slices. */
function* processes(n: number): Generator<string> {
  yield HEADER;
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += block({ addr: 0x100000 + i * 0x100, cid: hex(8 + i * 4, 4), parent: '0004', image: `proc${i % 977}.exe` });
    if (buf.length > 1 << 20) {
      yield buf;
      buf = '';
    }
  }
  yield buf;
}

/** The seed, then a line of `mb` MiB with no newline in it, then two more processes. */
function* longLine(mb: number): Generator<string | Buffer> {
  yield readFileSync(SEED);
  yield '\n';
  const chunk = '0123456789abcdef'.repeat(65536);
  for (let i = 0; i < mb; i++) yield chunk;
  yield `\n0: kd> !process 0 0\n${block({ addr: 0x9000, cid: '0a10', parent: '0004', image: 'after.exe' })}`;
}

/** Every input, written once. */
export async function hostileInputs(): Promise<HostileInput[]> {
  const d = dir();
  const seed = readFileSync(SEED);
  const f = (name: string) => path.join(d, name);
  const inputs: HostileInput[] = [];
  const add = async (name: string, what: string, expect: Expect, chunks: () => Iterable<string | Buffer>, gzip = false) => {
    inputs.push({ name, what, file: await once(f(name), chunks), expect, gzip });
  };

  await add('binary.bin', 'random bytes (1 MiB)', { status: 415, code: 'NOT_TRANSCRIPT' }, () => [randomBytes(1 << 20)]);
  await add('empty.txt', 'an empty file', { status: 400, code: 'EMPTY' }, () => []);
  await add('long-line-50mb.txt', 'a 50 MiB line with no newline, between transcript lines', { status: 202, report: 'equal-to-analyze' }, () => longLine(50));
  await add('long-line-200mb.txt', 'a 200 MiB line with no newline, between transcript lines', { status: 202, report: 'equal-to-analyze' }, () => longLine(200));
  await add('invalid-utf8.txt', 'the seed with invalid UTF-8 sprinkled in (lone continuation bytes, overlong forms, surrogates, 0xff)', { status: 202, report: 'equal-to-analyze' }, () => {
    const bad = [Buffer.from([0xff]), Buffer.from([0xc3, 0x28]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0x80, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])];
    const lines = seed.toString('latin1').split('\n');
    return lines.map((l, i) => Buffer.concat([Buffer.from(l, 'latin1'), i % 3 === 0 ? bad[i % bad.length] : Buffer.alloc(0), Buffer.from('\n')]));
  });
  await add('huge-numbers.txt', 'numbers of hundreds of digits (Cid, ParentCid, HandleCount, -p, 0n…)', { status: 202, report: 'equal-to-analyze' }, () => {
    const big = (c: string, n: number) => c.repeat(n);
    return [
      HEADER,
      block({ addr: 0x100, cid: big('f', 300), parent: big('9', 300), image: 'WerFault.exe', commandLine: WER(big('7', 400)) }),
      `PROCESS ffffa00000000200\n    SessionId: ${big('1', 200)}  Cid: 0200    Peb: 7efdf000  ParentCid: 0004\n    DirBase: 1aa00002  ObjectTable: ffffc00012345670  HandleCount:  ${big('4', 500)}.\n    Image: app.exe\n\n`,
      `0: kd> !process 0n${big('8', 500)}\nSearching for Process with Cid == ${big('a', 300)}\n`,
      block({ addr: 0x300, cid: '0300', parent: '0200', image: 'WerFault.exe', commandLine: WER('512') }),
    ];
  });
  await add('million-processes.txt', 'a million processes (175 MB)', { status: 202, report: 'processes-only' }, () => processes(1_000_000));
  await add('quarter-million-processes.txt', '250,000 processes (44 MB), for the cost per process', { status: 202, report: 'processes-only' }, () => processes(250_000));
  await add('cid-reuse.txt', 'Cid reuse: two live processes and an exited one with the same Cid, a WerFault.exe reporting on that pid', { status: 202, report: 'equal-to-analyze' }, () => [
    HEADER,
    block({ addr: 0x100, cid: '1234', parent: '0004', image: 'app.exe' }),
    block({ addr: 0x200, cid: '1234', parent: '0004', image: 'other.exe' }),
    block({ addr: 0x300, cid: '1234', parent: '0008', image: 'exited.exe' }),
    block({ addr: 0x400, cid: '2000', parent: '1234', image: 'WerFault.exe', waitOn: 0x100, commandLine: WER(String(0x1234)) }),
    block({ addr: 0x500, cid: '2004', parent: '2000', image: 'WerFault.exe', waitOn: 0x400, commandLine: WER(String(0x2000)) }),
  ]);
  await add('evidence-cycle.txt', 'evidence cycles: WerFault.exe A reports on B and B on A (command line, parentage and waits)', { status: 202, report: 'equal-to-analyze' }, () => [
    HEADER,
    block({ addr: 0x100, cid: '0100', parent: '0200', image: 'WerFault.exe', waitOn: 0x200, commandLine: WER(String(0x200)) }),
    block({ addr: 0x200, cid: '0200', parent: '0100', image: 'WerFault.exe', waitOn: 0x100, commandLine: WER(String(0x100)) }),
    block({ addr: 0x300, cid: '0300', parent: '0304', image: 'WerFault.exe', commandLine: WER(String(0x304)) }),
    block({ addr: 0x304, cid: '0304', parent: '0308', image: 'WerFault.exe', commandLine: WER(String(0x308)) }),
    block({ addr: 0x308, cid: '0308', parent: '0300', image: 'WerFault.exe', commandLine: WER(String(0x300)) }),
  ]);
  await add('contradictory-evidence.txt', 'contradictory evidence: a WerFault.exe whose command line, wait and parent name three different processes', { status: 202, report: 'equal-to-analyze' }, () => [
    HEADER,
    block({ addr: 0x100, cid: '0100', parent: '0004', image: 'a.exe' }),
    block({ addr: 0x200, cid: '0200', parent: '0004', image: 'b.exe' }),
    block({ addr: 0x300, cid: '0300', parent: '0004', image: 'c.exe' }),
    block({ addr: 0x400, cid: '0400', parent: '0300', image: 'WerFault.exe', waitOn: 0x200, commandLine: WER(String(0x100)) }),
    block({ addr: 0x500, cid: '0500', parent: '0400', image: 'WerFault.exe', waitOn: 0x400, commandLine: WER(String(0x300)) }),
  ]);
  await add('gzip-bomb.txt.gz', 'a gzip bomb through Content-Encoding: 1 GiB of text in about 1 MiB', { status: 413, code: 'TOO_LARGE' }, () => {
    const line = Buffer.from('0: kd> !process 0 0\n'.padEnd(64, ' '));
    const mb = Buffer.concat(Array.from({ length: 16384 }, () => line));
    const z = gzipSync(Buffer.concat(Array.from({ length: 64 }, () => mb)), { level: 9 }); // 64 MiB
    // Concatenated gzip members inflate to their concatenation: 16 × 64 MiB.
    return Array.from({ length: 16 }, () => z);
  }, true);
  await add('page.html', 'an HTML page that is not a transcript', { status: 415, code: 'NOT_TRANSCRIPT' }, () => ['<!doctype html>\n<html><head><title>Build 4711</title></head><body>\n', ...Array.from({ length: 400 }, (_, i) => `<tr><td>job ${i}</td><td class="ok">passed</td></tr>\n`), '</body></html>\n']);
  await add('events.json', 'JSON that is not a transcript', { status: 415, code: 'NOT_TRANSCRIPT' }, () => [JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, process: `p${i}.exe`, pid: 4 * i, thread: { id: 7, state: 'wait' } })), null, 2), '\n']);
  await add('syslog.log', 'a syslog that is not a transcript', { status: 415, code: 'NOT_TRANSCRIPT' }, () => Array.from({ length: 3000 }, (_, i) => `Nov 29 14:0${i % 10}:00 host kernel: [${i}.000] process ${i} (worker) exited with status 0\n`));
  await add('html-paste.html', 'a transcript pasted into an HTML page (tags, entities): a transcript all the same', { status: 202, report: 'equal-to-analyze' }, () => [
    '<html><body><h1>Crash</h1><pre>\n',
    seed.toString('utf8').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    '\n</pre></body></html>\n',
  ]);
  writeFileSync(path.join(d, 'README'), 'hostile inputs for test/faults/hostile.test.ts, written by test/faults/support/hostile.ts; delete to regenerate\n');
  return inputs;
}
