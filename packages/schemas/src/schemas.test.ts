/**
 * Drift guards for the wire contract: fingerprints, topics, files, and the history that the
 * compatibility test reads. A failure here means a schema changed: decide, then update on purpose.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { AVRO_DIR, MESSAGE_SCHEMAS, readSchema, schemaFingerprint, schemaPath, type MessageSchemaName } from './index';

/*
 * SHA-256 of each schema's Parsing Canonical Form. Docs, defaults and logical types are not part
 * of it; names, field order and types are.
 *
 * To change a schema on purpose: (1) make the change backward and forward compatible (new fields
 * nullable with `"default": null`; compatibility.test.ts must still pass against every file in
 * avro/history); (2) if its current version was released (avro/history/<file>.v<version>.avsc
 * exists), bump `version` in MESSAGE_SCHEMAS; (3) paste the new fingerprint below, printed by
 *   npx tsc -b && node -e "const s=require('./packages/schemas');for(const m of s.MESSAGE_SCHEMAS)console.log(m.name,s.schemaFingerprint(m.name))"
 * (4) on release, copy the schema to avro/history/<file>.v<version>.avsc.
 */
const PINNED: Record<MessageSchemaName, string> = {
  Segment: 'a737ad8d970bf7ec3c95b060e7b7ad666cb5e9992577afbad7c6d943175f95a8',
  DumpManifest: '65b5b03923152aed2af442a4d6a3be819aa64e82fe24499ab94391dcaed85756',
  Facts: '6a103a95cddc3d314c4f562c67de911a7d872781d39699ac1fc1cb63ac8399b7',
  Report: '904ea567be6942414ce39a00a39a4e2b30d0ff5a9f796966d6f27921edc96e76',
  Alert: '729c986cd36664a63c1400b11b529e0533459218f540f01149448a39fc7bca8d',
  StormEvent: '60416aa7c89735c3766be4ed2b7d4d9f146b12364bf6b36fcde918be3457a2f7',
};

it.each(MESSAGE_SCHEMAS.map((s) => s.name))('%s has its pinned fingerprint', (name) => {
  expect(schemaFingerprint(name)).toBe(PINNED[name]);
});

it('binds each schema to its topic and file', () => {
  expect(MESSAGE_SCHEMAS.map(({ name, topic, file }) => `${name} ${topic} ${file}`)).toEqual([
    'Segment segments segment.avsc',
    'DumpManifest manifests dump-manifest.avsc',
    'Facts facts facts.avsc',
    'Report reports report.avsc',
    'Alert alerts alert.avsc',
    'StormEvent storms storm-event.avsc',
  ]);
});

it('has a file for every schema and a schema for every file', () => {
  const files = readdirSync(AVRO_DIR).filter((f) => f.endsWith('.avsc'));
  expect(files.sort()).toEqual(MESSAGE_SCHEMAS.map((s) => s.file).sort());
  for (const s of MESSAGE_SCHEMAS) expect(readSchema(s.name)).toMatchObject({ type: 'record', name: s.name, namespace: 'dumpstream' });
});

it('keeps every released version in avro/history, and never edits one', () => {
  for (const { name, version } of MESSAGE_SCHEMAS) {
    expect(existsSync(schemaPath(name, 1))).toBe(true);
    // The current version, once released, is frozen: a change must bump `version`.
    if (existsSync(schemaPath(name, version))) expect(readSchema(name, version)).toEqual(readSchema(name));
  }
});

const pkg = path.resolve(__dirname, '..');
const built = existsSync(path.join(pkg, 'dist', 'index.js'));

it('ships avro/ with the package', () => {
  const manifest = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { files: string[] };
  expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'avro']));
});

// Runs where the package is built (`npx tsc -b`; CI builds it in `npm ci`).
(built ? it : it.skip)('finds its schemas from dist/ at run time', () => {
  const script = `const s = require(${JSON.stringify(pkg)}); console.log(JSON.stringify(s.MESSAGE_SCHEMAS.map((m) => s.schemaFingerprint(m.name))))`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: pkg, encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual(MESSAGE_SCHEMAS.map((m) => schemaFingerprint(m.name)));
});
