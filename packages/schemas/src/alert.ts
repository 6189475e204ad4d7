import type { ReportFinding } from '@dumpstream/report';
import { decodeWire, encodeWire } from './registry';

/** How bad a finding is: `medium`, `high` or `critical` (see @dumpstream/detect's severityOf). */
export type Severity = ReportFinding['severity'];

/** One finding worth paging about, on the `alerts` topic: flat and small for alert routers. */
export interface Alert {
  dumpId: string;
  source: string;
  host: string | null;
  /** The finding's pattern, e.g. `error-reporting-fault`. */
  pattern: string;
  severity: Severity;
  summary: string;
  werFaultProcesses: number;
  /** Length of the deepest WerFault.exe chain. */
  deepestChain: number;
  chainCount: number;
  /**
   * One per original fault, biggest first (as `roots`): its image, `pid N, not in the dump` when the
   * process is not in the dump, null when nothing names it. (v1 alerts: one per chain.)
   */
  rootImages: (string | null)[];
  /** When detect raised the alert, ms since the epoch. */
  createdAt: number;
  /** The original faults, distinct, biggest first (WerFault.exe count, then depth); [] in v1 alerts. */
  roots: AlertRoot[];
  /** The finding's signature (see @dumpstream/fleet signatureOf); null in alerts made before signatures. */
  signature: string | null;
}

/** An original fault behind an alert's chains. */
export interface AlertRoot {
  pid: number | null;
  image: string | null;
  /** false: not in the dump (exited, or not captured). */
  present: boolean;
  werFaults: number;
  deepestChain: number;
}

/** Encodes an alert. Throws SchemaError ENCODE_INVALID when a field does not fit the schema. */
export function encodeAlert(alert: Alert): Buffer {
  return encodeWire('Alert', alert);
}

/** Decodes an alert into a plain object. Throws SchemaError DECODE_FAILED for bytes that are not one. */
export function decodeAlert(bytes: Buffer): Alert {
  const w = decodeWire<Alert>('Alert', bytes);
  return {
    dumpId: w.dumpId,
    source: w.source,
    host: w.host,
    pattern: w.pattern,
    severity: w.severity,
    summary: w.summary,
    werFaultProcesses: w.werFaultProcesses,
    deepestChain: w.deepestChain,
    chainCount: w.chainCount,
    rootImages: [...w.rootImages],
    createdAt: w.createdAt,
    roots: (w.roots ?? []).map((r) => ({ pid: r.pid, image: r.image, present: r.present, werFaults: r.werFaults, deepestChain: r.deepestChain })),
    signature: w.signature ?? null,
  };
}
