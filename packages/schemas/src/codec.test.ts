import type { Report } from '@dumpstream/report';
import type { ProcessFact } from '@dumpstream/transcript';
import {
  DEAD_LETTER_HEADERS,
  decodeStormEvent,
  encodeStormEvent,
  type StormEvent,
  decodeAlert,
  decodeDumpManifest,
  decodeFacts,
  decodeReport,
  decodeSegment,
  deadLetterHeaders,
  encodeAlert,
  encodeDumpManifest,
  encodeFacts,
  encodeReport,
  encodeSegment,
  isSchemaError,
  readDeadLetterHeaders,
  SchemaError,
  type Alert,
  type DumpManifest,
  type FactsMessage,
  type SegmentMessage,
} from './index';

const UPLOAD = '5f0c6a52-3d57-4a4e-9a51-9d2b1c1e0a11';
const DUMP = 'a'.repeat(64);

const manifest: DumpManifest = {
  uploadId: UPLOAD,
  dumpId: DUMP,
  source: 'MEMORY.txt',
  host: 'WS-0042',
  segments: 12,
  lines: 48_000,
  bytes: 3_210_000_000,
  receivedAt: 1_764_000_000_000,
  status: 'complete',
  reason: null,
};

const alert: Alert = {
  dumpId: DUMP,
  source: 'MEMORY.txt',
  host: null,
  pattern: 'error-reporting-fault',
  severity: 'critical',
  summary: 'WerFault.exe reporting on WerFault.exe: 2 chains, deepest 5',
  werFaultProcesses: 9,
  deepestChain: 5,
  chainCount: 2,
  rootImages: ['app.exe', 'pid 163000, not in the dump'],
  createdAt: 1_764_000_000_123,
  roots: [
    { pid: 4660, image: 'app.exe', present: true, werFaults: 6, deepestChain: 5 },
    { pid: 163000, image: null, present: false, werFaults: 3, deepestChain: 3 },
  ],
  signature: 'v1:app.exe!app!CParser::Parse',
};

const segment: SegmentMessage = {
  uploadId: UPLOAD,
  seq: 0,
  firstLine: 1,
  context: {
    mode: null,
    machine: null,
    implicitProcess: null,
    implicitThread: null,
    command: null,
    target: null,
    userPid: null,
    userThreadIndex: null,
    block: null,
    thread: null,
    stack: null,
    peb: null,
    listImage: null,
  },
  lines: ['0: kd> !process 0 0'],
  source: 'MEMORY.txt',
  host: null,
  receivedAt: 1_764_000_000_000,
};

function factsWith(processes: ProcessFact[]): FactsMessage {
  return { uploadId: UPLOAD, segment: 0, firstLine: 1, lineCount: 4, unparsedLines: 0, warningCount: 0, processes, threads: [], stacks: [], commandLines: [], system: [], warnings: [] };
}

describe('DumpManifest and Alert', () => {
  it('come back equal, complete or aborted', () => {
    expect(decodeDumpManifest(encodeDumpManifest(manifest))).toStrictEqual(manifest);
    const aborted: DumpManifest = { ...manifest, status: 'aborted', reason: 'upload connection reset after 3 segments', segments: 3 };
    expect(decodeDumpManifest(encodeDumpManifest(aborted))).toStrictEqual(aborted);
    expect(decodeAlert(encodeAlert(alert))).toStrictEqual(alert);
  });
});

describe('Facts', () => {
  it('keeps the three states of sessionId and handleCount: absent, printed as none, a number', () => {
    const processes: ProcessFact[] = [
      { line: 1, pid: 4, source: 'process-block' },
      { line: 2, pid: 8, sessionId: null, handleCount: null, source: 'process-block' },
      { line: 3, pid: 12, sessionId: 0, handleCount: 1234, details: { ElapsedTime: '00:00:01.000' }, source: 'process-block' },
      { line: 4, pid: 16, sessionId: 1, source: 'process-block' },
    ];
    const back = decodeFacts(encodeFacts(factsWith(processes)));
    expect(back.processes).toStrictEqual(processes);
    expect('sessionId' in back.processes[0]).toBe(false);
    expect('handleCount' in back.processes[3]).toBe(false);
  });
});

// Bad input on purpose: errors by code and message.
describe('errors', () => {
  const caught = (f: () => unknown): SchemaError => {
    try {
      f();
    } catch (e) {
      if (isSchemaError(e)) return e;
      throw e;
    }
    throw new Error('did not throw');
  };

  it('ENCODE_INVALID names the fields that do not fit', () => {
    const e = caught(() => encodeSegment({ ...segment, seq: 1.5, lines: undefined as unknown as string[] }));
    expect(e.code).toBe('ENCODE_INVALID');
    expect(e.retriable).toBe(false);
    expect(e.message).toMatch(/^cannot encode Segment: /);
    expect(e.context.paths).toEqual(['seq = 1.5', 'lines = undefined']);
  });

  it('ENCODE_INVALID for a severity that is not one', () => {
    const e = caught(() => encodeAlert({ ...alert, severity: 'low' as Alert['severity'] }));
    expect(e).toMatchObject({ code: 'ENCODE_INVALID', message: 'cannot encode Alert: severity = "low"' });
  });

  it('DECODE_FAILED for truncated bytes, trailing bytes, and another schema', () => {
    const bytes = encodeSegment(segment);
    expect(caught(() => decodeSegment(bytes.subarray(0, bytes.length - 3)))).toMatchObject({ code: 'DECODE_FAILED', message: expect.stringMatching(/^cannot decode Segment from \d+ bytes: truncated buffer$/) });
    expect(caught(() => decodeSegment(Buffer.concat([bytes, Buffer.from([0])])))).toMatchObject({ code: 'DECODE_FAILED', message: expect.stringMatching(/trailing data$/) });
    expect(caught(() => decodeDumpManifest(encodeAlert(alert))).code).toBe('DECODE_FAILED');
  });

  it('DECODE_FAILED for a report of another report schema', () => {
    const report = {
      schema: 'dumpstream.report/v2',
      source: 's',
      dumpId: DUMP,
      system: {},
      stats: { lines: 0, processes: 0, threads: 0, frames: 0, unparsedLines: 0, warnings: 0, bytes: 0 },
      processes: [],
      stacks: [],
      warnings: [],
      findings: [],
    } as unknown as Report;
    expect(caught(() => decodeReport(encodeReport(report)))).toMatchObject({
      code: 'DECODE_FAILED',
      message: 'cannot decode Report: schema is "dumpstream.report/v2", not dumpstream.report/v1',
    });
  });

  it('brands errors so that isSchemaError works across copies of the package', () => {
    expect(isSchemaError(new SchemaError('DECODE_FAILED', 'x', { schema: 'Facts' }))).toBe(true);
    expect(isSchemaError(Object.assign(new Error('x'), { code: 'DECODE_FAILED' }))).toBe(false);
    expect(isSchemaError(null)).toBe(false);
  });
});

describe('dead letters', () => {
  const info = {
    reason: 'cannot decode Facts from 12 bytes: truncated buffer',
    errorCode: 'DECODE_FAILED',
    sourceTopic: 'dumpstream.facts',
    sourcePartition: 3,
    sourceOffset: '9007199254740993',
    service: 'detect',
    failedAt: 1_764_000_000_000,
  };

  it('pins the header names', () => {
    expect(Object.values(DEAD_LETTER_HEADERS)).toEqual([
      'x-dumpstream-reason',
      'x-dumpstream-error-code',
      'x-dumpstream-source-topic',
      'x-dumpstream-source-partition',
      'x-dumpstream-source-offset',
      'x-dumpstream-service',
      'x-dumpstream-failed-at',
    ]);
  });

  it('reads back what it wrote, from strings or from the Buffers a consumer gets', () => {
    const headers = deadLetterHeaders(info);
    expect(readDeadLetterHeaders(headers)).toEqual(info);
    const asBuffers = Object.fromEntries(Object.entries({ traceparent: 'x', ...headers }).map(([k, v]) => [k, Buffer.from(v)]));
    expect(readDeadLetterHeaders(asBuffers)).toEqual(info);
  });

  it('refuses a message that is not a dead letter (bad input on purpose)', () => {
    const { [DEAD_LETTER_HEADERS.reason]: _, ...noReason } = deadLetterHeaders(info);
    expect(() => readDeadLetterHeaders(noReason)).toThrow('not a dead letter: no x-dumpstream-reason header');
    expect(() => readDeadLetterHeaders({ ...deadLetterHeaders(info), [DEAD_LETTER_HEADERS.sourcePartition]: 'three' })).toThrow(
      'not a dead letter: x-dumpstream-source-partition is "three", not an integer',
    );
  });
});

describe('StormEvent', () => {
  it('comes back equal, with and without its optional fields', () => {
    const started: StormEvent = {
      signature: 'v1:app.exe!app!CParser::Parse',
      state: 'started',
      seq: 1,
      at: 1_764_000_000_000,
      since: 1_764_000_000_000,
      lastSeen: 1_763_999_990_000,
      dumpsInWindow: 61,
      hostsInWindow: 30,
      windowMs: 1_800_000,
      reason: 'dumps',
      examples: ['ab'.repeat(32)],
      deepestChain: 5,
      werFaults: 300,
    };
    expect(decodeStormEvent(encodeStormEvent(started))).toStrictEqual(started);
    const ended: StormEvent = { ...started, state: 'ended', seq: 9, lastSeen: null, reason: null, examples: [] };
    expect(decodeStormEvent(encodeStormEvent(ended))).toStrictEqual(ended);
    // Bad on purpose: a state the schema does not know.
    expect(() => encodeStormEvent({ ...started, state: 'paused' as never })).toThrow(/cannot encode StormEvent: state = "paused"/);
  });
});
