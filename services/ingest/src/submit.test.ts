import { sourceLabel, transcriptsEndpoint } from './submit';
import { spoolSkipReason } from './spool';
import { IngestError, isIngestError, toIngestError } from './errors';

describe('transcriptsEndpoint', () => {
  it('appends the upload path to a base URL, with or without a prefix', () => {
    expect(transcriptsEndpoint('http://127.0.0.1:8080').href).toBe('http://127.0.0.1:8080/v1/transcripts');
    expect(transcriptsEndpoint('https://ingest.example/dumps/?x=1#y').href).toBe('https://ingest.example/dumps/v1/transcripts');
  });

  // Bad input on purpose.
  it.each([
    ['ingest:8080', 'unsupported URL scheme ingest: (use http: or https:)'],
    ['not a url', 'not a URL: "not a url" (expected e.g. http://127.0.0.1:8080)'],
    ['ftp://h/', 'unsupported URL scheme ftp: (use http: or https:)'],
    ['http://user:secret@h/', 'put the token in --token, not in the URL'],
  ])('refuses %s', (url, message) => {
    expect(() => transcriptsEndpoint(url)).toThrow(message);
  });
});

describe('sourceLabel', () => {
  it('is the base name, made printable, at most 256 characters', () => {
    expect(sourceLabel('/var/dumps/MEMORY.txt')).toBe('MEMORY.txt');
    expect(sourceLabel('-')).toBe('stdin');
    expect(sourceLabel('/x/a\nb\u202e.txt')).toBe('a_b_.txt');
    const long = sourceLabel(`/x/${'y'.repeat(300)}.txt`);
    expect(long).toHaveLength(256);
    expect(long.endsWith('y.txt')).toBe(true);
  });
});

describe('spoolSkipReason', () => {
  it('takes plain names and skips hidden files and sidecars', () => {
    expect(spoolSkipReason('MEMORY.txt')).toBeNull();
    expect(spoolSkipReason('kd session 3')).toBeNull();
    expect(spoolSkipReason('.MEMORY.txt.part')).toMatch(/^hidden/);
    expect(spoolSkipReason('MEMORY.txt.host')).toBe('a host sidecar');
    expect(spoolSkipReason('..')).toBe('not a plain file name');
    expect(spoolSkipReason('../etc/passwd')).toBe('not a plain file name');
  });
});

describe('toIngestError', () => {
  it('keeps IngestErrors, hides Kafka and internal details behind a code', () => {
    const own = new IngestError('TOO_LARGE', 'big');
    expect(toIngestError(own)).toBe(own);
    const kafka = Object.assign(new Error('Connection error: connect ECONNREFUSED 10.1.2.3:9092'), { name: 'KafkaJSConnectionError' });
    expect(toIngestError(kafka)).toMatchObject({ code: 'KAFKA', status: 503, retriable: true, message: 'the message queue is not accepting transcripts: try again later', cause: kafka });
    expect(toIngestError(new TypeError('x is undefined'))).toMatchObject({ code: 'INTERNAL', status: 500, message: 'internal error' });
    const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE' });
    const wrapped = Object.assign(new Error(tooLarge.message), { name: 'KafkaJSNonRetriableError', cause: tooLarge });
    expect(toIngestError(wrapped)).toMatchObject({ code: 'SEGMENT_TOO_LARGE', status: 413, retriable: false });
    expect(isIngestError({ code: 'KAFKA' })).toBe(false);
  });
});
