import { decodeWire, encodeWire } from './registry';

/** A storm's transition or update, on the `storms` topic (see avro/storm-event.avsc). */
export interface StormEvent {
  signature: string;
  state: 'started' | 'update' | 'ended';
  /** The signature's event number: a (signature, seq) seen before is a re-publication. */
  seq: number;
  /** The evaluation time that wrote it, ms since the epoch. */
  at: number;
  since: number;
  lastSeen: number | null;
  dumpsInWindow: number;
  hostsInWindow: number;
  windowMs: number;
  reason: string | null;
  examples: string[];
  deepestChain: number;
  werFaults: number;
}

/** Encodes a storm event. Throws SchemaError ENCODE_INVALID when a field does not fit the schema. */
export function encodeStormEvent(event: StormEvent): Buffer {
  return encodeWire('StormEvent', event);
}

/** Decodes a storm event into a plain object. Throws SchemaError DECODE_FAILED for bytes that are not one. */
export function decodeStormEvent(bytes: Buffer): StormEvent {
  const w = decodeWire<StormEvent>('StormEvent', bytes);
  return {
    signature: w.signature,
    state: w.state,
    seq: w.seq,
    at: w.at,
    since: w.since,
    lastSeen: w.lastSeen ?? null,
    dumpsInWindow: w.dumpsInWindow,
    hostsInWindow: w.hostsInWindow,
    windowMs: w.windowMs,
    reason: w.reason ?? null,
    examples: [...(w.examples ?? [])],
    deepestChain: w.deepestChain,
    werFaults: w.werFaults,
  };
}
