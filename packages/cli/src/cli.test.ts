import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../../../test/support/cli';

const SEED = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'seed-error-reporting-fault.txt');

const cli = (args: string[], stdin = '') => runCli(args, { stdin });

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dumpstream-cli-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('dumpstream analyze', () => {
  it('prints one JSON report per input, one per line', async () => {
    const r = await cli(['analyze', '--format', 'json', SEED, SEED]);
    expect(r.code).toBe(0);
    const reports = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ schema: 'dumpstream.report/v1', source: SEED });
    expect(reports[0].dumpId).toMatch(/^[0-9a-f]{64}$/);
    expect(reports[0].findings[0].werFaultProcesses).toBe(9);
  });

  it('draws the chains as trees in text', async () => {
    const r = await cli(['analyze', SEED]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('ERROR REPORTING FAULT [high]');
    expect(r.out).toContain('└─ WerFault.exe 211012 (Cid 33844)  [waiting, parentage]');
  });

  it('draws the inputs as one HTML page, a section each, naming the ones it could not analyse', async () => {
    const missing = path.join(dir, 'missing.txt');
    const r = await cli(['analyze', '--format', 'html', SEED, missing, SEED]);
    expect(r.code).toBe(1);
    expect(r.out.match(/<!DOCTYPE html>/g)).toHaveLength(1);
    expect(r.out.match(/<section class="report"/g)).toHaveLength(3);
    expect(r.out.match(/<svg class="tree"/g)).toHaveLength(4);
    expect(r.out).toContain('not analysed: no such file');
    expect(r.err).toContain(`dumpstream: ${missing}: no such file`);
  });

  it('draws the inputs as one standalone SVG', async () => {
    const r = await cli(['analyze', '--format=svg', SEED]);
    expect(r.code).toBe(0);
    expect(r.out.startsWith('<?xml')).toBe(true);
    expect(r.out.match(/<svg /g)).toHaveLength(1);
    expect(r.out.match(/data-kind="reporter"/g)).toHaveLength(9);
  });

  it('reads standard input for -', async () => {
    const r = await cli(['analyze', '--format=json', '-'], await fs.readFile(SEED, 'utf8'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).source).toBe('(standard input)');
  });

  it('analyses the good inputs and fails with status 1 naming each bad one', async () => {
    const empty = path.join(dir, 'empty.txt');
    const binary = path.join(dir, 'core.dmp');
    const prose = path.join(dir, 'notes.txt');
    await fs.writeFile(empty, '');
    await fs.writeFile(binary, Buffer.from([0x4d, 0x44, 0x4d, 0x50, 0x93, 0xa7, 0, 0, 1, 2, 3]));
    await fs.writeFile(prose, 'Dear team,\nthe build is green.\n');
    const r = await cli(['analyze', '--format', 'json', empty, SEED, binary, path.join(dir, 'missing.txt'), prose, dir]);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.err.trim().split('\n')).toEqual([
      `dumpstream: ${empty}: empty input`,
      `dumpstream: ${binary}: binary data (a minidump file, MDMP): run the debugger on it and submit the transcript`,
      `dumpstream: ${path.join(dir, 'missing.txt')}: no such file`,
      `dumpstream: ${prose}: not a debugger transcript: no prompt, process, thread or stack in 2 lines`,
      `dumpstream: ${dir}: is a directory, not a transcript`,
    ]);
  });

  it('lists the lines not understood with --unparsed, and the JSON holds the same as a sample', async () => {
    const file = path.join(dir, 'unparsed.txt');
    const odd = Array.from({ length: 130 }, (_, i) => `mystery ${i}`);
    await fs.writeFile(file, ['kd> !process 0 0', 'PROCESS fffffa8000000100', '    SessionId: 1  Cid: 0100    Peb: 7efdf000  ParentCid: 0004', '    Image: app.exe', 'kd> r', ...odd, 'Loading User Symbols', ''].join('\n'));
    const r = await cli(['analyze', '--unparsed', file]);
    expect(r.code).toBe(0);
    const out = r.out.split('\n');
    expect(out[0]).toBe(`${file}: 130 of 136 lines not understood`);
    expect(out[1]).toBe('    6  mystery 0');
    expect(out[130]).toBe('  135  mystery 129');
    expect(r.out).not.toContain('Loading User Symbols');
    const json = JSON.parse((await cli(['analyze', '--format', 'json', file])).out);
    expect(json.stats.unparsedLines).toBe(130);
    expect(json.unparsed).toHaveLength(100);
    expect(json.unparsed[0]).toEqual({ line: 6, text: 'mystery 0' });
    expect((await cli(['analyze', file])).out).toContain('130 lines not understood (analyze --unparsed lists them)');
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli(['analyse', SEED])).code).toBe(2);
    expect((await cli(['analyze'])).code).toBe(2);
    const bad = await cli(['analyze', '--format', 'xml', SEED]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--format must be text, json, html or svg, not "xml"');
    for (const args of [['analyze', '--format'], ['analyze', '--format', '--unparsed', SEED]]) {
      const none = await cli(args);
      expect(none.code).toBe(2);
      expect(none.err).toContain('--format needs a value: text, json, html or svg');
      expect(none.err).not.toContain('nothing');
    }
    expect((await cli(['analyze', '--frobnicate', SEED])).code).toBe(2);
    const facts = await cli(['analyze', '--max-facts', 'lots', SEED]);
    expect(facts.code).toBe(2);
    expect(facts.err).toContain('--max-facts must be a whole number of facts above 0, not "lots"');
  });

  it('leaves out the end of a dump past --max-facts, with a warning saying from which line', async () => {
    const whole = JSON.parse((await cli(['analyze', '--format', 'json', SEED])).out);
    const r = await cli(['analyze', '--format', 'json', '--max-facts', '10', SEED]);
    expect(r.code).toBe(0);
    const capped = JSON.parse(r.out);
    expect(capped.warnings[0].kind).toBe('facts-capped');
    expect(capped.warnings[0].text).toMatch(/^the dump holds more than 10 facts .*the transcript from line \d+ on was left out$/);
    expect(capped.stats.lines).toBeLessThan(whole.stats.lines);
    expect(capped.stats.processes + capped.stats.frames).toBeLessThanOrEqual(10);
  });
});
