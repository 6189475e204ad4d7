/**
 * Real published transcripts, with facts read off them by eye: the parser must find every one.
 * test/fixtures/corpus holds the ten of ../shared/corpus; test/fixtures/formats holds more formats
 * found in the wild (each folder's SOURCES.tsv says where every file comes from).
 */
import { promises as fs, existsSync } from 'node:fs';
import * as path from 'node:path';
import { analyzeTranscript } from '@dumpstream/cli';
import { missingFacts, type Expectations } from '../support/expectations';

const FOLDERS = ['corpus', 'formats'].map((f) => path.join(__dirname, '..', 'fixtures', f)).filter((d) => existsSync(d));

async function* chunks(file: string): AsyncIterable<Buffer> {
  yield await fs.readFile(file);
}

const cases: [string, string][] = [];
for (const dir of FOLDERS) {
  for (const f of require('node:fs').readdirSync(dir) as string[]) {
    if (f.endsWith('.txt') && existsSync(path.join(dir, f.replace(/\.txt$/, '.expect.json')))) cases.push([`${path.basename(dir)}/${f}`, path.join(dir, f)]);
  }
}

describe('real transcripts', () => {
  it('has the ten corpus transcripts', () => {
    expect(cases.filter(([n]) => n.startsWith('corpus/')).length).toBe(10);
  });

  it.each(cases)('%s: every fact read off it by eye is found', async (_name, file) => {
    const expectations = JSON.parse(await fs.readFile(file.replace(/\.txt$/, '.expect.json'), 'utf8')) as Expectations;
    const report = await analyzeTranscript(path.basename(file), chunks(file));
    expect(missingFacts(report, expectations)).toEqual([]);
  });

  it.each(cases)('%s: parses the same when cut into tiny segments', async (_name, file) => {
    const whole = await analyzeTranscript('x', chunks(file));
    const cut = await analyzeTranscript('x', chunks(file), { segmenter: { maxLines: 2, hardMaxLines: 60 } });
    expect(missingFacts(cut, JSON.parse(await fs.readFile(file.replace(/\.txt$/, '.expect.json'), 'utf8')))).toEqual([]);
    expect(cut.processes).toEqual(whole.processes);
    expect(cut.findings).toEqual(whole.findings);
  });
});
