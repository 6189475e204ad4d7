import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether an `Authorization` header carries the bearer token. Compares sha256 digests in constant
 * time, so neither the token's content nor its length leaks through timing. The scheme is
 * case-insensitive (RFC 7235); the token is not.
 */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  // Compare anyway when the header is missing or malformed: same work on every path.
  const given = digest(m ? m[1] : '');
  const ok = timingSafeEqual(given, digest(token));
  return ok && m !== null;
}
