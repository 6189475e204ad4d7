import { isIngestError } from './errors';
import { headerText, readUploadMetadata, validateLabel } from './metadata';

const refused = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (isIngestError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  throw new Error('not refused');
};

describe('validateLabel', () => {
  it('keeps printable labels, trimmed, in any script', () => {
    expect(validateLabel('source', '  MEMORY.DMP.txt ')).toBe('MEMORY.DMP.txt');
    expect(validateLabel('host', 'sql-01.corp.example')).toBe('sql-01.corp.example');
    expect(validateLabel('source', 'Дамп сервера 3.log')).toBe('Дамп сервера 3.log');
    expect(validateLabel('source', 'x'.repeat(256))).toHaveLength(256);
  });

  // Bad input on purpose: each of these could forge log lines, hide text, or smuggle separators.
  it.each([
    ['', 'BAD_METADATA: source is empty'],
    ['   ', 'BAD_METADATA: source is empty'],
    ['x'.repeat(257), 'BAD_METADATA: source is 257 characters long; the limit is 256'],
    ['a\nb', 'BAD_METADATA: source contains an unprintable character (U+000A) at position 1'],
    ['a\r\nInjected: 1', 'BAD_METADATA: source contains an unprintable character (U+000D) at position 1'],
    ['nul\u0000', 'BAD_METADATA: source contains an unprintable character (U+0000) at position 3'],
    ['esc\u001b[31m', 'BAD_METADATA: source contains an unprintable character (U+001B) at position 3'],
    ['del\u007f', 'BAD_METADATA: source contains an unprintable character (U+007F) at position 3'],
    ['c1\u0085', 'BAD_METADATA: source contains an unprintable character (U+0085) at position 2'],
    ['txt.exe\u202egnp', 'BAD_METADATA: source contains an unprintable character (U+202E) at position 7'],
    ['zero\u200bwidth', 'BAD_METADATA: source contains an unprintable character (U+200B) at position 4'],
    ['line\u2028sep', 'BAD_METADATA: source contains an unprintable character (U+2028) at position 4'],
    ['bad\ufffdutf8', 'BAD_METADATA: source is not valid UTF-8'],
  ])('refuses %j', (value, message) => {
    expect(refused(() => validateLabel('source', value))).toBe(message);
  });
});

describe('readUploadMetadata', () => {
  const q = (s = '') => new URLSearchParams(s);

  it('defaults the source to upload and the host to null', () => {
    expect(readUploadMetadata({}, q())).toEqual({ source: 'upload', host: null });
  });

  it('prefers the headers to the query', () => {
    expect(readUploadMetadata({ 'x-dumpstream-source': 'a.txt', 'x-dumpstream-host': 'h1' }, q('source=b.txt&host=h2'))).toEqual({ source: 'a.txt', host: 'h1' });
    expect(readUploadMetadata({}, q('source=b%20c.txt&host=h2'))).toEqual({ source: 'b c.txt', host: 'h2' });
  });

  it('reads UTF-8 sent in a header (Node hands it over as latin1)', () => {
    const raw = Buffer.from('сервер.txt', 'utf8').toString('latin1');
    expect(readUploadMetadata({ 'x-dumpstream-source': raw }, q()).source).toBe('сервер.txt');
    expect(headerText('caf\u00e9')).toBe('caf\u00e9'); // latin1 that is not UTF-8 stays as it came
  });

  it('refuses a label given twice and bad labels', () => {
    expect(refused(() => readUploadMetadata({ 'x-dumpstream-host': ['a', 'b'] }, q()))).toBe('BAD_METADATA: X-Dumpstream-Host is given more than once');
    expect(refused(() => readUploadMetadata({}, q('source=a&source=b')))).toBe('BAD_METADATA: ?source= is given more than once');
    expect(refused(() => readUploadMetadata({}, q('host=a%0Ab')))).toBe('BAD_METADATA: host contains an unprintable character (U+000A) at position 1');
  });
});
