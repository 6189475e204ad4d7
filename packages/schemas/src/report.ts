import { REPORT_SCHEMA, type Report, type ReportFinding, type ReportFrame, type ReportProcess, type ReportStack } from '@dumpstream/report';
import type { SystemFacts } from '@dumpstream/transcript';
import { SchemaError } from './errors';
import { decodeWire, encodeWire } from './registry';
import { optionalKeys, putPresent, type OptionalKeys, type Wire } from './wire';

/*
 * The report is modelled in Avro field by field rather than carried as a JSON string. The wire
 * contract is then checked like every other message: the fingerprint pin and the compatibility
 * test see a change to the report's shape, a consumer reads typed data without a second parser,
 * and the message is about 40% smaller than the JSON (160,502 against 278,123 bytes for the
 * fixtures' reports). The price: report.ts and report.avsc must change together (the real-data
 * round trip fails when they drift), and `system` comes back with its keys in schema order
 * rather than in the order the transcript printed them (deep-equal, not byte-equal as JSON).
 */

type Chain = ReportFinding['chains'][number];
type Root = Chain['root'];

interface ReportWire extends Omit<Report, 'system'> {
  system: Wire<SystemFacts>;
}

const SYSTEM_KEYS = optionalKeys<SystemFacts>()([
  'debuggerVersion',
  'debuggerArch',
  'os',
  'osBuild',
  'servicePack',
  'processors',
  'arch',
  'product',
  'suite',
  'builtBy',
  'buildLab',
  'buildString',
  'dumpFile',
  'dumpType',
  'comment',
  'livekdVersion',
  'target',
  'kernelBase',
  'bugcheckCode',
  'sessionTime',
  'systemUptime',
  'processUptime',
  'machineName',
  'mode',
]);

/** Encodes a report. Throws SchemaError ENCODE_INVALID when a field does not fit the schema. */
export function encodeReport(report: Report): Buffer {
  return encodeWire('Report', report);
}

/**
 * Decodes a report into plain objects deep-equal to the one @dumpstream/report built. Throws
 * SchemaError DECODE_FAILED for bytes that are not a Report, or a report whose `schema` is not
 * `dumpstream.report/v1`.
 */
export function decodeReport(bytes: Buffer): Report {
  const w = decodeWire<ReportWire>('Report', bytes);
  if (w.schema !== REPORT_SCHEMA) {
    throw new SchemaError('DECODE_FAILED', `cannot decode Report: schema is ${JSON.stringify(w.schema)}, not ${REPORT_SCHEMA}`, { schema: 'Report' });
  }
  const s = w.stats;
  return {
    schema: REPORT_SCHEMA,
    source: w.source,
    dumpId: w.dumpId,
    host: w.host ?? null,
    status: w.status === 'incomplete' ? 'incomplete' : 'complete',
    incompleteReason: w.incompleteReason ?? null,
    system: putPresent<SystemFacts, OptionalKeys<SystemFacts>>({}, w.system, SYSTEM_KEYS),
    stats: { lines: s.lines, processes: s.processes, threads: s.threads, frames: s.frames, unparsedLines: s.unparsedLines, warnings: s.warnings, bytes: s.bytes },
    processes: w.processes.map(processFromWire),
    stacks: w.stacks.map(stackFromWire),
    warnings: w.warnings.map((x) => ({ line: x.line, kind: x.kind, text: x.text })),
    findings: w.findings.map(findingFromWire),
    unparsed: (w.unparsed ?? []).map((u) => ({ line: u.line, text: u.text })),
  };
}

function processFromWire(p: ReportProcess): ReportProcess {
  return {
    address: p.address,
    pid: p.pid,
    parentPid: p.parentPid,
    image: p.image,
    sessionId: p.sessionId,
    handleCount: p.handleCount,
    commandLine: p.commandLine,
    threads: p.threads.map((t) => ({
      address: t.address,
      tid: t.tid,
      state: t.state,
      waitReason: t.waitReason,
      waitMode: t.waitMode,
      waitsOn: t.waitsOn.map((o) => ({ address: o.address, type: o.type })),
      name: t.name,
      stackNotResident: t.stackNotResident,
      frames: t.frames.map(frameFromWire),
    })),
  };
}

function stackFromWire(s: ReportStack): ReportStack {
  return {
    pid: s.pid,
    tid: s.tid,
    processAddress: s.processAddress,
    threadAddress: s.threadAddress,
    machine: s.machine,
    elided: s.elided,
    line: s.line,
    frames: s.frames.map(frameFromWire),
  };
}

function frameFromWire(f: ReportFrame): ReportFrame {
  return {
    module: f.module,
    function: f.function,
    offset: f.offset,
    returnAddress: f.returnAddress,
    frameAddress: f.frameAddress,
    callSite: f.callSite,
    raw: f.raw,
    line: f.line,
  };
}

function findingFromWire(f: ReportFinding): ReportFinding {
  return {
    pattern: f.pattern,
    severity: f.severity,
    summary: f.summary,
    werFaultProcesses: f.werFaultProcesses,
    chains: f.chains.map(
      (c): Chain => ({
        root: rootFromWire(c.root),
        reporters: [...c.reporters],
        length: c.length,
        evidence: c.evidence.map((e) => [...e]),
        conflicts: c.conflicts.map((x) => ({ reporterPid: x.reporterPid, kind: x.kind, targetPid: x.targetPid })),
      }),
    ),
    signature: f.signature ?? null,
  };
}

function rootFromWire(r: Root): Root {
  return {
    pid: r.pid,
    image: r.image,
    present: r.present,
    exceptionStack: r.exceptionStack && r.exceptionStack.map(frameFromWire),
    faultingFrame: r.faultingFrame ?? null,
    note: r.note,
  };
}
