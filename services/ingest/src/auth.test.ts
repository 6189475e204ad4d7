import { bearerMatches } from './auth';

describe('bearerMatches', () => {
  const token = 'k3y-0123456789abcdef';

  it('accepts the token, whatever the case of the scheme', () => {
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`BEARER \t${token} `, token)).toBe(true);
  });

  // Bad input on purpose.
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no scheme', token],
    ['basic scheme', `Basic ${Buffer.from(`u:${token}`).toString('base64')}`],
    ['wrong token', 'Bearer k3y-0123456789abcdeX'],
    ['prefix of the token', `Bearer ${token.slice(0, -1)}`],
    ['token with a suffix', `Bearer ${token}x`],
    ['token case changed', `Bearer ${token.toUpperCase()}`],
    ['two tokens', `Bearer ${token} ${token}`],
    ['empty token', 'Bearer '],
  ])('refuses %s', (_what, header) => {
    expect(bearerMatches(header, token)).toBe(false);
  });
});
