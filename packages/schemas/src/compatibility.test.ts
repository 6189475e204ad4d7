/**
 * Schema evolution: data written with any released version (avro/history) must be readable with
 * the current schema, and data written with the current schema must be readable by readers of
 * every released version, so that producers and consumers can be deployed in any order.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Type, type Schema } from 'avsc';
import { AVRO_DIR, MESSAGE_SCHEMAS, readSchema } from './index';

const HISTORY = path.join(AVRO_DIR, 'history');

function released(file: string): number[] {
  const base = file.replace(/\.avsc$/, '');
  return readdirSync(HISTORY)
    .map((f) => new RegExp(`^${base}\\.v(\\d+)\\.avsc$`).exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

describe.each(MESSAGE_SCHEMAS)('$name', ({ name, file }) => {
  const current = Type.forSchema(readSchema(name) as Schema);
  const versions = released(file);

  it('has released versions to check against', () => {
    expect(versions.length).toBeGreaterThan(0);
  });

  it.each(versions)('reads v%i data, and v%i readers read its data', (v) => {
    const old = Type.forSchema(readSchema(name, v) as Schema);
    const oldToNew = current.createResolver(old);
    const newToOld = old.createResolver(current);
    for (let i = 0; i < 20; i++) {
      expect(current.isValid(current.fromBuffer(old.toBuffer(old.random()), oldToNew))).toBe(true);
      expect(old.isValid(old.fromBuffer(current.toBuffer(current.random()), newToOld))).toBe(true);
    }
  });
});

// Bad schemas on purpose: the check above must catch each kind of breaking change.
describe('a breaking change fails the check', () => {
  type Record = { type: 'record'; name: string; namespace: string; fields: { name: string; type: unknown; default?: unknown }[] };
  const segment = readSchema('Segment') as unknown as Record;
  const v1 = Type.forSchema(segment as Schema);
  const withField = (field: Record['fields'][number]): Type => Type.forSchema({ ...segment, fields: [...segment.fields, field] } as Schema);

  it('a required field added without a default: new readers cannot read old data', () => {
    const v2 = withField({ name: 'priority', type: 'long' });
    expect(() => v2.createResolver(v1)).toThrow(/no matching field for default-less dumpstream\.Segment\.priority/);
  });

  it('the same field, nullable with a default, passes', () => {
    const v2 = withField({ name: 'priority', type: ['null', 'long'], default: null });
    expect(() => v2.createResolver(v1)).not.toThrow();
    expect(() => v1.createResolver(v2)).not.toThrow();
  });

  it('a field removed: old readers cannot read new data', () => {
    const v2 = Type.forSchema({ ...segment, fields: segment.fields.filter((f) => f.name !== 'source') } as Schema);
    expect(() => v1.createResolver(v2)).toThrow(/no matching field for default-less dumpstream\.Segment\.source/);
  });

  it('a type changed: neither side can read the other', () => {
    const v2 = Type.forSchema({ ...segment, fields: segment.fields.map((f) => (f.name === 'seq' ? { ...f, type: 'string' } : f)) } as Schema);
    expect(() => v2.createResolver(v1)).toThrow();
    expect(() => v1.createResolver(v2)).toThrow();
  });

  it('an enum symbol added: old readers cannot read new data', () => {
    const alert = readSchema('Alert') as unknown as Record;
    const a1 = Type.forSchema(alert as Schema);
    const a2 = Type.forSchema({
      ...alert,
      fields: alert.fields.map((f) => (f.name === 'severity' ? { ...f, type: { type: 'enum', name: 'Severity', symbols: ['medium', 'high', 'critical', 'catastrophic'] } } : f)),
    } as Schema);
    expect(() => a2.createResolver(a1)).not.toThrow();
    expect(() => a1.createResolver(a2)).toThrow();
  });
});
