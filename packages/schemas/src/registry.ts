import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Type, type Schema } from 'avsc';
import { SchemaError } from './errors';

/**
 * Every message of the distributed pipeline: its schema, the topic that carries it, and the
 * schema's version. One topic carries one schema, so a consumer never has to guess the type.
 *
 * The manifest has a topic of its own rather than sharing `segments` in a top-level union: only
 * detect needs it (to know when a dump is whole), and parse workers then read one type only.
 */
export const MESSAGE_SCHEMAS = [
  { name: 'Segment', topic: 'segments', file: 'segment.avsc', version: 2 },
  { name: 'DumpManifest', topic: 'manifests', file: 'dump-manifest.avsc', version: 1 },
  { name: 'Facts', topic: 'facts', file: 'facts.avsc', version: 2 },
  { name: 'Report', topic: 'reports', file: 'report.avsc', version: 2 },
  { name: 'Alert', topic: 'alerts', file: 'alert.avsc', version: 2 },
  { name: 'StormEvent', topic: 'storms', file: 'storm-event.avsc', version: 1 },
] as const;

/** The name of a message schema: `Segment`, `DumpManifest`, `Facts`, `Report`, `Alert` or `StormEvent`. */
export type MessageSchemaName = (typeof MESSAGE_SCHEMAS)[number]['name'];

/** One entry of {@link MESSAGE_SCHEMAS}. */
export type MessageSchemaInfo = (typeof MESSAGE_SCHEMAS)[number];

/** Where the `.avsc` files are: `avro/` beside `src/` and `dist/`, so both find it. */
export const AVRO_DIR = path.resolve(__dirname, '..', 'avro');

/** The entry of a schema; throws a plain Error for a name that is not one (a programming error). */
export function schemaInfo(name: MessageSchemaName): MessageSchemaInfo {
  const info = MESSAGE_SCHEMAS.find((s) => s.name === name);
  if (!info) throw new Error(`unknown message schema: ${String(name)}`);
  return info;
}

/**
 * Path of a schema's `.avsc` file: the current one, or with `version` the released copy kept in
 * `avro/history/<file>.v<version>.avsc`.
 */
export function schemaPath(name: MessageSchemaName, version?: number): string {
  const { file } = schemaInfo(name);
  return version === undefined ? path.join(AVRO_DIR, file) : path.join(AVRO_DIR, 'history', file.replace(/\.avsc$/, `.v${version}.avsc`));
}

/** The schema as JSON, read from its `.avsc` file. Throws when the file is missing or not JSON. */
export function readSchema(name: MessageSchemaName, version?: number): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaPath(name, version), 'utf8')) as Record<string, unknown>;
}

const types = new Map<MessageSchemaName, Type>();

/** The avsc type of a current schema, parsed once. */
export function messageType(name: MessageSchemaName): Type {
  let t = types.get(name);
  if (!t) {
    t = Type.forSchema(readSchema(name) as Schema);
    types.set(name, t);
  }
  return t;
}

/**
 * SHA-256 fingerprint of the schema's Parsing Canonical Form, lowercase hex (docs, defaults and
 * logical types are not part of it). Pinned by a test: a change is a decision.
 */
export function schemaFingerprint(name: MessageSchemaName): string {
  return messageType(name).fingerprint('sha256').toString('hex');
}

/**
 * Where values are encoded before being copied out at their exact size. avsc's own toBuffer
 * writes into a 1 KiB buffer and, when the value does not fit, encodes it a second time into one
 * of the size the first pass found: every segment, facts and report message was encoded twice.
 * This buffer grows to the largest message encoded, up to SCRATCH_MAX_BYTES; a larger one is
 * encoded twice as before rather than kept in memory for good.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);
const SCRATCH_MAX_BYTES = 16 * 1024 * 1024;

/** `type`'s encoding of `wire` in one pass (two for a message above SCRATCH_MAX_BYTES). */
function encodeOnce(type: Type, wire: unknown): Buffer {
  const end = type.encode(wire, scratch, 0);
  if (end >= 0) return Buffer.from(scratch.subarray(0, end));
  // encode() returns minus the bytes missing: the exact size is known now.
  const size = scratch.length - end;
  if (size > SCRATCH_MAX_BYTES) {
    const out = Buffer.allocUnsafe(size);
    type.encode(wire, out, 0);
    return out;
  }
  scratch = Buffer.allocUnsafe(2 ** Math.ceil(Math.log2(size)));
  const again = type.encode(wire, scratch, 0);
  return Buffer.from(scratch.subarray(0, again));
}

/** Encodes a value already shaped for the wire; on failure says which fields are wrong. */
export function encodeWire(name: MessageSchemaName, wire: unknown): Buffer {
  const type = messageType(name);
  try {
    return encodeOnce(type, wire);
  } catch (cause) {
    const paths: string[] = [];
    type.isValid(wire, { errorHook: (p, v) => paths.push(`${p.join('.') || '(root)'} = ${preview(v)}`) });
    const at = paths.length > 0 ? `: ${paths.slice(0, 5).join(', ')}${paths.length > 5 ? `, and ${paths.length - 5} more` : ''}` : '';
    throw new SchemaError('ENCODE_INVALID', `cannot encode ${name}${at}`, { schema: name, paths }, { cause });
  }
}

/** Decodes bytes written with the current schema; throws DECODE_FAILED for anything else. */
export function decodeWire<W>(name: MessageSchemaName, bytes: Buffer): W {
  try {
    return messageType(name).fromBuffer(bytes) as W;
  } catch (cause) {
    throw new SchemaError('DECODE_FAILED', `cannot decode ${name} from ${bytes.length} bytes: ${(cause as Error).message}`, { schema: name }, { cause });
  }
}

function preview(v: unknown): string {
  const s = v === undefined ? 'undefined' : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
