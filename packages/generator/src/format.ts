/**
 * Number and address formatting in the debugger's own shapes. 64-bit values are carried as two
 * unsigned 32-bit halves (no BigInt on the hot path).
 */

/** A 64-bit value (or a 32-bit one with `hi === 0`). */
export interface Addr {
  readonly hi: number;
  readonly lo: number;
}

const TWO32 = 4294967296;

const HEX4: string[] = (() => {
  const t = new Array<string>(65536);
  for (let i = 0; i < 65536; i++) t[i] = i.toString(16).padStart(4, '0');
  return t;
})();

/** `n` as exactly 8 lowercase hex digits (table-driven: this is the generator's hottest path). */
export function hex8(n: number): string {
  return (HEX4[(n >>> 16) & 0xffff] as string) + (HEX4[n & 0xffff] as string);
}

/** `n` in lowercase hex, zero-padded to at least `width` digits (kd's `%04x` for Cids). */
export function hexPad(n: number, width: number): string {
  const s = n.toString(16);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

/** Adds a non-negative number below 2^32 to a 64-bit value, carrying into the high half. */
export function add(a: Addr, n: number): Addr {
  const lo = a.lo + n;
  if (lo >= TWO32) return { hi: (a.hi + 1) >>> 0, lo: lo - TWO32 };
  return { hi: a.hi, lo };
}

/** Pointer as kd prints it in PROCESS/THREAD lines: 16 digits on x64, 8 on x86, no backtick. */
export function ptr(a: Addr, ptr64: boolean): string {
  return ptr64 ? hex8(a.hi) + hex8(a.lo) : hex8(a.lo);
}

/** Pointer as printed in stacks and `Implicit process is now …`: `fffffa80`75c21b30` on x64. */
export function ptrTick(a: Addr, ptr64: boolean): string {
  return ptr64 ? hex8(a.hi) + '`' + hex8(a.lo) : hex8(a.lo);
}

/** `%08I64x`: at least 8 digits, more if the value needs them (`Peb: 7efdf000`, `DirBase: 25640c000`). */
export function hexMin8(a: Addr): string {
  return a.hi === 0 ? hex8(a.lo) : a.hi.toString(16) + hex8(a.lo);
}

/** A symbol-less frame's call site: `0x779b5e74`, `0xbf7c0`, `0x00007ff9`7909c1b4`. */
export function rawSite(a: Addr): string {
  return a.hi === 0 ? '0x' + a.lo.toString(16) : '0x' + hex8(a.hi) + '`' + hex8(a.lo);
}

/** `HandleCount:  54.` / `TableSize: 150.`: the number right-aligned in 3 columns, then a dot. */
export function countField(n: number): string {
  const s = String(n);
  return (s.length >= 3 ? s : '   '.slice(s.length) + s) + '.';
}

/** A kd duration `0:00:04:42.656` from a tick count (15.625 ms a tick). */
export function tickDuration(ticks: number): string {
  const ms = Math.floor(ticks * 15.625);
  const d = Math.floor(ms / 86_400_000);
  const h = Math.floor(ms / 3_600_000) % 24;
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const f = ms % 1000;
  return `${d}:${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(f).padStart(3, '0')}`;
}

/** `00:00:00.015`-style CPU time from milliseconds. */
export function cpuTime(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const f = ms % 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(f).padStart(3, '0')}`;
}
