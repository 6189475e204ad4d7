import { originalFaults } from '@dumpstream/detect';

/**
 * The version of the signature rule. Two findings have the same signature when they are the same
 * fault; a change to what counts as "the same" (normalisation, which frame, the defined values)
 * changes the signatures the fleet state is keyed by, so it must bump this: signatures of
 * different versions never compare equal, and a storm under the old rule simply ends.
 */
export const SIGNATURE_VERSION = 1;

/** Root in the dump, but no stack of its faulting thread printed (paged out, or not asked for). */
export const NO_STACK = '<no-stack>';
/** A stack is printed, but no frame of the program's own code past the exception path. */
export const NO_FAULTING_FRAME = '<no-faulting-frame>';
/** The original fault is not in the dump (exited, not captured, or nothing names it). */
export const UNKNOWN_ROOT = '<unknown-root>';
/** The root process is in the dump but printed without an image name. */
export const NO_IMAGE = '<no-image>';
/** The faulting frame is code outside every module (`0xbf7c0`): no module nor function to name. */
export const NO_MODULE = '<no-module>';
/** The faulting frame names a module but no function (no symbols: `MyApp+0x1234`). */
export const NO_FUNCTION = '<no-function>';

/** What the signature reads of a frame: detect's Frame and the report's ReportFrame both fit. */
export interface SignatureFrame {
  module: string | null;
  function: string | null;
}

/** What the signature reads of a finding: detect's ErrorReportingFault and the report's ReportFinding both fit. */
export interface SignatureFinding {
  chains: readonly {
    root: { pid: number | null; image: string | null; present: boolean; exceptionStack: readonly SignatureFrame[] | null; faultingFrame: number | null };
    reporters: number[];
    length: number;
  }[];
}

/**
 * The signature of a finding, version 1:
 *
 *     v1:<root image>!<module>!<function>
 *
 * of its biggest original fault (the one every rendering lists first: most WerFault.exe, then the
 * deepest chain; see originalFaults). `<root image>` is the root process's image, lower case,
 * without its path; `<module>` the faulting frame's module, lower case, without extension nor the
 * `_<base address>` WOW64 suffix; `<function>` its function as printed (C++ names are case
 * sensitive), without `+0x…` offsets. Where part of that is missing the signature says which part
 * with a defined value instead of guessing:
 *
 * - `v1:<unknown-root>`: the root is not in the dump (nothing names it, it has exited, or the
 *   evidence forms a cycle); nothing about its code is known.
 * - `v1:<image>!<no-stack>`: the root is in the dump, with no stack of its faulting thread.
 * - `v1:<image>!<no-faulting-frame>`: a stack, but every frame past the exception path is
 *   Windows' own (or no exception path is printed).
 * - `<no-image>`, `<no-module>` (code outside every module), `<no-function>` (no symbols) stand in
 *   for the one part that is missing.
 *
 * Addresses, pids, hosts and offsets never take part: they differ between two dumps of the same
 * fault. Pure; null for a finding without chains.
 */
export function signatureOf(finding: SignatureFinding): string | null {
  if (finding.chains.length === 0) return null;
  const r = originalFaults(finding.chains)[0].root;
  const v = `v${SIGNATURE_VERSION}:`;
  if (r.pid === null || !r.present) return `${v}${UNKNOWN_ROOT}`;
  const image = r.image === null ? NO_IMAGE : normaliseImage(r.image);
  if (r.exceptionStack === null || r.exceptionStack.length === 0) return `${v}${image}!${NO_STACK}`;
  const frame = r.faultingFrame === null ? undefined : r.exceptionStack[r.faultingFrame];
  if (frame === undefined) return `${v}${image}!${NO_FAULTING_FRAME}`;
  if (frame.module === null) return `${v}${image}!${NO_MODULE}`;
  return `${v}${image}!${normaliseModule(frame.module)}!${normaliseFunction(frame.function)}`;
}

/** The signature of a report: that of its first finding (today's only pattern), null without one. */
export function reportSignature(report: { findings: readonly SignatureFinding[] }): string | null {
  const f = report.findings[0];
  return f === undefined ? null : signatureOf(f);
}

/** `C:\Program Files\Contoso\MyApp.EXE` → `myapp.exe`. */
export function normaliseImage(image: string): string {
  const base = image.slice(Math.max(image.lastIndexOf('\\'), image.lastIndexOf('/')) + 1).trim();
  return clean(base.toLowerCase()) || NO_IMAGE;
}

/** `MyApp_00400000` → `myapp`, `Contoso.Core.dll` → `contoso.core`: as the debugger names it, without what varies. */
export function normaliseModule(module: string): string {
  let m = module.trim().toLowerCase();
  m = m.replace(/\.(?:dll|exe|sys|drv|ocx)$/, '');
  m = m.replace(/_[0-9a-f]{8,16}$/, '');
  return clean(m) || NO_MODULE;
}

/** `Parse+0x1a` → `Parse`; `CApp::Run<int>` stays as it is. */
export function normaliseFunction(fn: string | null): string {
  if (fn === null) return NO_FUNCTION;
  const f = fn.replace(/\+0x[0-9a-f`]+$/i, '').trim();
  return clean(f) || NO_FUNCTION;
}

// `!` separates the parts, and whitespace or control characters would make a signature print
// differently from how it compares: both are replaced.
function clean(s: string): string {
  return s.replace(/[!\s\u0000-\u001f]+/g, '_');
}

/** True for a string shaped like a signature of any version (`v<n>:…`, printable, bounded). */
export function isSignature(s: string): boolean {
  return /^v\d+:[^\s]{1,1024}$/.test(s);
}
