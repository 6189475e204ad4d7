import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { analyzeTranscript } from '@dumpstream/cli';
import { generateTranscript, type ChainSpec } from '@dumpstream/generator';
import { isSignature, normaliseFunction, normaliseImage, normaliseModule, signatureOf, SIGNATURE_VERSION, type SignatureFinding } from './signature';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures');

type Root = SignatureFinding['chains'][number]['root'];
const frame = (callSite: string) => {
  const m = /^(?:([^!]+)!)?([^+]+)?(?:\+0x[0-9a-f]+)?$/i.exec(callSite)!;
  return { module: m[1] ?? (m[2]?.startsWith('0x') ? null : m[2] ?? null), function: m[1] ? m[2] ?? null : null };
};
const finding = (root: Partial<Root>, extra: { root: Partial<Root>; length: number }[] = []): SignatureFinding => ({
  chains: [{ root: { pid: 100, image: 'MyApp.exe', present: true, exceptionStack: null, faultingFrame: null, ...root }, reporters: [1, 2], length: 2 }, ...extra.map((e, i) => ({ root: { pid: 200 + i, image: 'Other.exe', present: true, exceptionStack: null, faultingFrame: null, ...e.root }, reporters: Array.from({ length: e.length }, (_, k) => 10 * (i + 1) + k), length: e.length }))],
});

async function reportOf(text: Iterable<string> | Buffer) {
  return analyzeTranscript('t', Buffer.isBuffer(text) ? [text] : (text as Iterable<string>));
}

describe('signatureOf', () => {
  it('is version 1, and says so in every signature', () => {
    expect(SIGNATURE_VERSION).toBe(1);
    expect(signatureOf(finding({}))).toMatch(/^v1:/);
  });

  it('names the root image and the faulting frame, without path, case or offsets that vary', () => {
    const stack = ['ntdll!KiUserExceptionDispatcher+0x2e', 'MyApp_00400000!CParser::Parse+0x1a', 'MyApp_00400000!main+0x10'].map(frame);
    expect(signatureOf(finding({ image: 'C:\\Program Files\\Contoso\\MyApp.EXE', exceptionStack: stack, faultingFrame: 1 }))).toBe('v1:myapp.exe!myapp!CParser::Parse');
    // The same fault on another machine: another path, another load address, another offset.
    const other = ['ntdll!KiUserExceptionDispatcher+0x10', 'MyApp_01200000!CParser::Parse+0x1a', 'MyApp_01200000!main+0x99'].map(frame);
    expect(signatureOf(finding({ pid: 4242, image: 'myapp.exe', exceptionStack: other, faultingFrame: 1 }))).toBe('v1:myapp.exe!myapp!CParser::Parse');
  });

  it('has a defined value for each part that is missing', () => {
    expect(signatureOf(finding({ pid: null, image: null, present: false }))).toBe('v1:<unknown-root>');
    expect(signatureOf(finding({ present: false, image: null }))).toBe('v1:<unknown-root>');
    expect(signatureOf(finding({ exceptionStack: null }))).toBe('v1:myapp.exe!<no-stack>');
    expect(signatureOf(finding({ exceptionStack: [] }))).toBe('v1:myapp.exe!<no-stack>');
    expect(signatureOf(finding({ exceptionStack: [frame('ntdll!NtWaitForMultipleObjects+0x14')], faultingFrame: null }))).toBe('v1:myapp.exe!<no-faulting-frame>');
    expect(signatureOf(finding({ exceptionStack: [frame('0xbf7c0')], faultingFrame: 0 }))).toBe('v1:myapp.exe!<no-module>');
    expect(signatureOf(finding({ exceptionStack: [{ module: 'MyApp', function: null }], faultingFrame: 0 }))).toBe('v1:myapp.exe!myapp!<no-function>');
    expect(signatureOf(finding({ image: null }))).toBe('v1:<no-image>!<no-stack>');
    expect(signatureOf({ chains: [] })).toBeNull();
  });

  it('takes the biggest original fault, the one every rendering lists first', () => {
    // MyApp.exe has one chain of 2; Other.exe one of 5: Other.exe is the storm's fault.
    expect(signatureOf(finding({}, [{ root: {}, length: 5 }]))).toBe('v1:other.exe!<no-stack>');
  });

  it('keeps the separator and whitespace out of the parts', () => {
    expect(normaliseImage('/opt/x/My App!.exe')).toBe('my_app_.exe');
    expect(normaliseModule('Contoso.Core.DLL')).toBe('contoso.core');
    expect(normaliseModule('ntdll_77d80000')).toBe('ntdll');
    expect(normaliseFunction('Foo::Bar+0x1f')).toBe('Foo::Bar');
    expect(isSignature('v1:myapp.exe!myapp!main')).toBe(true);
    expect(isSignature('myapp.exe')).toBe(false); // bad on purpose: no version
  });
});

describe('signatures of real and generated transcripts', () => {
  it('the seed: every root has exited, so its signature is <unknown-root>', async () => {
    const report = await reportOf(await fs.readFile(path.join(FIXTURES, 'seed-error-reporting-fault.txt')));
    expect(signatureOf(report.findings[0])).toBe('v1:<unknown-root>');
  });

  it('the corpus transcripts without a finding have no signature to give', async () => {
    for (const dir of ['corpus', 'formats']) {
      for (const f of (await fs.readdir(path.join(FIXTURES, dir))).filter((x) => x.endsWith('.txt'))) {
        const report = await reportOf(await fs.readFile(path.join(FIXTURES, dir, f)));
        expect({ f, findings: report.findings.map(signatureOf) }).toEqual({ f, findings: [] });
      }
    }
  });

  const generated = async (seed: number, chain: ChainSpec) => {
    const report = await reportOf(generateTranscript({ seed, processes: 8, chains: [chain] }).chunks);
    return signatureOf(report.findings[0]);
  };

  it.each([
    [1, { depth: 3 }, 'v1:spoolsv.exe!spoolsv!CHeapBlock::Free'],
    [9, { depth: 3 }, 'v1:teams.exe!teams!CTableRow::GetCell'],
    [4, { depth: 3 }, 'v1:notepad.exe!<no-module>'],
    [2, { depth: 3, rootStack: 'paged-out' }, 'v1:spoolsv.exe!<no-stack>'],
    [5, { depth: 3, rootPresent: false }, 'v1:<unknown-root>'],
  ] as [number, ChainSpec, string][])('generated seed %i %j: %s', async (seed, chain, expected) => {
    expect(await generated(seed, chain)).toBe(expected);
  });
});
