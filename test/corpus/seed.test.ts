/**
 * The original write-up of the Error Reporting Fault (../shared/seeds), analysed end to end:
 * three chains of three WerFault.exe, nine WerFault.exe in all (DOMAIN.md).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { analyzeTranscript } from '@dumpstream/cli';

const SEED = path.join(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt');

async function seedReport() {
  const bytes = await fs.readFile(SEED);
  return analyzeTranscript('seed', (async function* () {
    yield bytes;
  })());
}

describe('the seed transcript', () => {
  it('finds three chains of three WerFault.exe, nine WerFault.exe in all', async () => {
    const report = await seedReport();
    expect(report.findings).toHaveLength(1);
    const f = report.findings[0];
    expect(f.pattern).toBe('error-reporting-fault');
    expect(f.werFaultProcesses).toBe(9);
    const chains = f.chains.map((c) => ({ root: c.root.pid, reporters: c.reporters, evidence: c.evidence }));
    expect(chains).toEqual(
      expect.arrayContaining([
        // 488f0 → 3feac → 1142c and 4801c → 3d8b8 → 1fc4c: parentage, sharing the parent 27cb8.
        { root: 0x27cb8, reporters: [0x488f0, 0x3feac, 0x1142c], evidence: [['parentage'], ['parentage'], ['parentage']] },
        { root: 0x27cb8, reporters: [0x4801c, 0x3d8b8, 0x1fc4c], evidence: [['parentage'], ['parentage'], ['parentage']] },
        // 2d3c8's command line reports on 189240 = 2e338; 33844 is waited on by 2d3c8 and is its child.
        { root: 0x47608, reporters: [0x2e338, 0x2d3c8, 0x33844], evidence: [['parentage'], ['command-line'], ['waiting', 'parentage']] },
      ]),
    );
    expect(f.chains).toHaveLength(3);
    expect(f.chains.every((c) => c.length === 3)).toBe(true);
  });

  it('says the roots are not in the dump and invents no exception stack', async () => {
    const report = await seedReport();
    for (const c of report.findings[0].chains) {
      expect(c.root.present).toBe(false);
      expect(c.root.image).toBeNull();
      expect(c.root.exceptionStack).toBeNull();
      expect(c.root.note).toMatch(/not in the dump/);
    }
  });

  it('gives 2d3c8 its image from its command line and its 32-bit stack from .thread /w context', async () => {
    const report = await seedReport();
    const p = report.processes.find((x) => x.pid === 0x2d3c8)!;
    expect(p.address).toBe('fffffa8075c21b30');
    expect(p.image).toBe('WerFault.exe');
    expect(p.commandLine).toBe('C:\\Windows\\SysWOW64\\WerFault.exe -u -p 189240 -s 3888');
    const t = p.threads.find((x) => x.tid === 0x4334c)!;
    expect(t.waitsOn).toEqual([{ address: 'fffffa80809c44e0', type: 'ProcessObject' }]);
    expect(t.frames.map((fr) => fr.callSite)).toContain('kernel32!WerpReportFaultInternal+0x186');
    const k = report.stacks.find((s) => s.threadAddress === 'fffffa807c183b60')!;
    expect(k.pid).toBe(0x2d3c8);
    expect(k.tid).toBe(0x4334c);
    expect(k.machine).toBe('x86');
    expect(k.frames).toHaveLength(16);
    expect(k.frames[15]).toMatchObject({ module: null, function: null, callSite: '0xbf7c0', returnAddress: '77629ef2', frameAddress: 'bfb00' });
  });

  it('rates the storm high: chains of three', async () => {
    const report = await seedReport();
    expect(report.findings[0].severity).toBe('high');
  });
});
