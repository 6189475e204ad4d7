/**
 * The pictures of `analyze --format html|svg`, rendered by a real browser: Debian's headless
 * Chromium, the machine's /usr/bin/chromium (CI installs the `chromium` package), or on the Docker
 * path where the machine has none (a Docker engine answers, or DUMPSTREAM_INFRA=docker: a machine
 * with only Docker, such as Docker Desktop) the same package in a container (./chromium.ts). It
 * checks the DOM Chromium parsed (the trees, their boxes, labels and evidence; no injected element)
 * and the screenshot's pixels (each tree's figure, its boxes and the colours of its evidence lanes),
 * so it fails when the picture is empty or wrong. With neither, it fails and says what to install.
 */
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeTranscript } from '@dumpstream/cli';
import { generateTranscript } from '@dumpstream/generator';
import { renderHtml, renderHtmlPage, renderSvg, type Report } from '@dumpstream/report';
import { findChromium, LOCAL_CHROMIUM, type Chromium } from './chromium';
import { countColour, decodePng, type Png } from './png';

const SEED = path.join(__dirname, '..', 'fixtures', 'seed-error-reporting-fault.txt');
const WIDTH = 1600;

// Colours the drawing uses (packages/report/src/svg.ts).
const C = {
  figure: '#fcfcfd',
  reporter: '#e7f5ff',
  rootAbsent: '#f1f3f5',
  rootPresent: '#fff4e6',
  more: '#ffffff',
  gold: '#f59f00',
  commandLine: '#1c7ed6',
  waiting: '#e8590c',
  parentage: '#2f9e44',
};

let dir: string;
let browser: Chromium | undefined;
let runs = 0;

function chromium(args: string[]): Promise<string> {
  const profile = path.join(dir, `profile-${++runs}`);
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    `--user-data-dir=${profile}`,
  ];
  return browser!.run([...flags, ...args]);
}

/** Renders a file: its DOM after parsing, and a screenshot of a window `height` tall. */
async function render(file: string, height: number): Promise<{ dom: string; png: Png }> {
  const url = `file://${file}`;
  const shot = `${file}.png`;
  const [dom] = await Promise.all([chromium(['--dump-dom', url]), chromium([`--screenshot=${shot}`, `--window-size=${WIDTH},${height}`, url])]);
  return { dom, png: decodePng(readFileSync(shot)) };
}

/** The vertical extents of the tree figures: bands of rows mostly in the figures' background. */
function figures(png: Png): { y: number; h: number }[] {
  const out: { y: number; h: number }[] = [];
  let start = -1;
  for (let y = 0; y <= png.height; y++) {
    const inFigure = y < png.height && countColour(png, C.figure, 0, { x: 0, y, w: png.width, h: 1 }) > png.width * 0.15;
    if (inFigure && start < 0) start = y;
    if (!inFigure && start >= 0) {
      if (y - start > 30) out.push({ y: start, h: y - start });
      start = -1;
    }
  }
  return out;
}

const count = (png: Png, colour: string, band: { y: number; h: number }, tolerance = 4): number => countColour(png, colour, tolerance, { x: 0, y: band.y, w: png.width, h: band.h });
const all = (s: string, re: RegExp): string[] => s.match(re) ?? [];

async function report(source: string, chunks: Iterable<string | Buffer>): Promise<Report> {
  return analyzeTranscript(source, (async function* () {
    yield* chunks;
  })());
}

let seed: { dom: string; png: Png };
let storm: { dom: string; png: Png };
let svg: string;

beforeAll(async () => {
  // realpath: the container route mounts it at the same path (macOS's tmpdir is a symlink)
  dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'dumpstream-render-')));
  browser = findChromium(dir);
  if (!browser) throw new Error(`no chromium on PATH (Debian's is ${LOCAL_CHROMIUM}): install Debian's chromium package (apt-get install -y chromium), or run the tests on the Docker path (a Docker engine, or DUMPSTREAM_INFRA=docker), which runs it in a container`);
  await browser.prepare();
}, 20 * 60_000);

beforeAll(async () => {
  const seedReport = await report('seed-error-reporting-fault.txt', [readFileSync(SEED)]);
  // A root whose image is markup, and a source name that is too: one page with the seed.
  const evil = ['PROCESS fffffa8000000100', '    SessionId: 1  Cid: 0100    Peb: 7efdf000  ParentCid: 0004', '    Image: <script>alert(1)</script>.exe', ''];
  for (const [cid, parent] of [[0x200, 0x100], [0x300, 0x200]]) {
    evil.push(`PROCESS fffffa8000000${cid.toString(16)}`, `    SessionId: 1  Cid: ${cid.toString(16).padStart(4, '0')}    Peb: 7efdf000  ParentCid: ${parent.toString(16).padStart(4, '0')}`, '    Image: WerFault.exe', '');
  }
  const evilReport = await report('<img src=x onerror=alert(2)>', [evil.join('\n')]);
  expect(evilReport.findings).toHaveLength(1);
  await fs.writeFile(path.join(dir, 'seed.html'), renderHtmlPage([seedReport, evilReport]));
  await fs.writeFile(path.join(dir, 'seed.svg'), renderSvg([seedReport, evilReport]));
  // Chromium draws the seed while the storm is made here.
  const seedRuns = Promise.all([render(path.join(dir, 'seed.html'), 2400), chromium(['--dump-dom', `file://${path.join(dir, 'seed.svg')}`])]);
  // A storm of over a thousand WerFault.exe: a 40-deep chain, and a tree fanning out over 6 levels.
  const gen = generateTranscript({ seed: 99, processes: 300, chains: [{ depth: 40, branching: 3 }, { depth: 6, branching: [1, 4, 4, 4, 4, 3] }], wow64: true });
  const stormReport = await report('storm (generator seed 99)', gen.chunks);
  expect(stormReport.findings[0].werFaultProcesses).toBeGreaterThan(1000);
  await fs.writeFile(path.join(dir, 'storm.html'), renderHtml(stormReport));
  const stormRun = render(path.join(dir, 'storm.html'), 3200);
  [[seed, svg], storm] = await Promise.all([seedRuns, stormRun]);
}, 180_000);

afterAll(async () => {
  await browser?.cleanup();
  if (dir && !process.env.DUMPSTREAM_KEEP_RENDER) await fs.rm(dir, { recursive: true, force: true });
  else if (dir) process.stderr.write(`renders kept in ${dir}\n`);
});

/** The seed's section of the page Chromium parsed. */
function seedSection(): string {
  const start = seed.dom.indexOf('<section class="report" id="report-1"');
  const end = seed.dom.indexOf('<section class="report" id="report-2"');
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  return seed.dom.slice(start, end);
}

describe('the seed, rendered by Chromium', () => {
  it('has two trees: roots 163000 and 292360 not in the dump, nine WerFault.exe with their evidence', () => {
    const dom = seedSection();
    expect(all(dom, /<svg class="tree"/g)).toHaveLength(2);
    expect(all(dom, /data-kind="root" data-pid="(163000|292360)" data-present="false"/g)).toHaveLength(2);
    expect(all(dom, /data-kind="reporter"/g)).toHaveLength(9);
    for (const pid of [294940, 252088, 130124, 297200, 261804, 70700, 189240, 185288, 211012]) expect(dom).toContain(`>WerFault.exe ${pid}</text>`);
    expect(dom).toContain('>pid 163000 · Cid 27cb8</text>');
    expect(all(dom, />not in the dump<\/text>/g)).toHaveLength(2);
    expect(all(dom, /data-evidence="parentage"/g).length).toBeGreaterThanOrEqual(7);
    expect(dom).toContain('data-evidence="command-line"');
    expect(dom).toContain('data-evidence="waiting parentage"');
    expect(all(dom, /<text class="evidence"[^>]*>(command-line|waiting|parentage)<\/text>/g)).toHaveLength(10);
    expect(dom).toContain('No exception stack: process 163000 is not in the dump');
  });

  it('draws each tree: its boxes, the root not in the dump, the colours of its evidence', () => {
    const { png } = seed;
    expect([png.width, png.height]).toEqual([WIDTH, 2400]);
    // The seed's two trees, then the one of the page's second report.
    const [first, second, ...rest] = figures(png);
    expect(rest).toHaveLength(1);
    // Six reporters and one absent root in the first tree, three and one in the second (a box is
    // 172×38 and the root 196×60, less their text and borders).
    expect(count(png, C.reporter, first)).toBeGreaterThan(6 * 3800);
    expect(count(png, C.reporter, first)).toBeLessThan(6 * 172 * 38);
    expect(count(png, C.reporter, second)).toBeGreaterThan(3 * 3800);
    expect(count(png, C.reporter, second)).toBeLessThan(3 * 172 * 38);
    for (const band of [first, second]) {
      expect(count(png, C.rootAbsent, band)).toBeGreaterThan(8000);
      expect(count(png, C.rootPresent, band)).toBeLessThan(50);
      expect(count(png, C.gold, band, 10)).toBeGreaterThan(3 * 300);
    }
    // First tree: parentage only. Second: parentage, command-line and waiting.
    expect(count(png, C.parentage, first, 10)).toBeGreaterThan(100);
    expect(count(png, C.commandLine, first, 10)).toBe(0);
    expect(count(png, C.waiting, first, 10)).toBe(0);
    expect(count(png, C.parentage, second, 10)).toBeGreaterThan(30);
    expect(count(png, C.commandLine, second, 10)).toBeGreaterThan(50);
    expect(count(png, C.waiting, second, 10)).toBeGreaterThan(30);
  });
});

describe('a storm of over a thousand WerFault.exe, rendered by Chromium', () => {
  it('draws each original fault to its budget, folded and summarised, with the deepest chain', () => {
    const { dom } = storm;
    const trees = all(dom, /<svg class="tree"[^>]*data-nodes="(\d+)"/g).map((s) => Number(/data-nodes="(\d+)"/.exec(s)![1]));
    expect(trees).toHaveLength(2);
    for (const n of trees) expect(n).toBeLessThanOrEqual(61);
    expect(trees[0]).toBeGreaterThan(40);
    expect(dom).toContain('Original fault: javaw.exe pid 34272 (Cid 85e0)');
    expect(dom).toContain('Original fault: EXCEL.EXE pid 12488 (Cid 30c8)');
    expect(dom).toContain('>… 37 levels …</text>');
    expect(all(dom, /data-kind="more"/g).length).toBeGreaterThan(10);
    expect(dom).toMatch(/>\+\d+ reporters \/ \d+ chains<\/text>/);
    expect(dom).toMatch(/deepest chain \(40 WerFault\.exe, from the original fault out\): 127244 → /);
    expect(dom).toContain('<li class="exception">ntdll!KiUserExceptionDispatcher+0xf</li>');
  });

  it('shows both trees on screen, crowded but with every kind of box and evidence', () => {
    const { png } = storm;
    const bands = figures(png);
    expect(bands).toHaveLength(2);
    const [big, deep] = bands;
    expect(big.h).toBeGreaterThan(900);
    // Dozens of reporter boxes (scaled to the page), summaries, the root in the dump.
    expect(count(png, C.reporter, big)).toBeGreaterThan(25 * 3000);
    expect(count(png, C.more, big, 0)).toBeGreaterThan(10 * 2500);
    expect(count(png, C.rootPresent, big)).toBeGreaterThan(6000);
    expect(count(png, C.rootPresent, deep)).toBeGreaterThan(6000);
    for (const band of [big, deep]) {
      for (const colour of [C.commandLine, C.waiting, C.parentage]) expect(count(png, colour, band, 10)).toBeGreaterThan(20);
      expect(count(png, C.gold, band, 10)).toBeGreaterThan(500);
    }
  });
});

describe('escaping, as Chromium parses it', () => {
  it('keeps an image name <script>alert(1)</script>.exe as text, not an element', () => {
    expect(seed.dom).not.toMatch(/<script|<img/i);
    expect(seed.dom).toContain('<h3>Original fault: &lt;script&gt;alert(1)&lt;/script&gt;.exe pid 256 (Cid 100)');
    expect(seed.dom).toMatch(/data-kind="root" data-pid="256" data-present="true"><title>original fault: &lt;script&gt;alert\(1\)&lt;\/script&gt;\.exe pid 256/);
    expect(seed.dom).toContain('<h2>&lt;img src=x onerror=alert(2)&gt;</h2>');
    expect(seed.dom).toContain('<a href="#report-2">&lt;img src=x onerror=alert(2)&gt;</a>');
  });

  it('parses the standalone SVG as a well-formed document', () => {
    expect(svg).not.toContain('parsererror');
    expect(svg).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(all(svg, /data-kind="reporter"/g)).toHaveLength(11);
    expect(svg).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.exe');
    expect(svg).not.toMatch(/<script/i);
  });
});
