import { randomBytes } from 'node:crypto';

/** A fresh hex id (upload or dump id shaped), so tests never share keys or topics. */
export function freshId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

/** A unique prefix for one test's Kafka topics and Redis keys. */
export function uniquePrefix(name: string): string {
  return `t${name.replace(/[^a-z0-9]/gi, '').slice(0, 12)}${randomBytes(3).toString('hex')}`;
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
