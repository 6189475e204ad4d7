import type { Frame } from '@dumpstream/transcript';

/**
 * The faulting frame of an exception stack: the first frame of the faulting program's own code.
 *
 * The rule (README, "Reading the report"): walk the stack from its innermost frame to the last
 * frame of the exception path (`KiUserExceptionDispatcher`, `RtlDispatchException`,
 * `KiDispatchException`, `RtlRaiseException`, `RaiseException`, `_CxxThrowException`,
 * `UnhandledExceptionFilter`, `WerpReportFault…`); the faulting frame is the first frame past it
 * whose module is not one of Windows' own or Error Reporting's (nt, ntdll, kernel32, KERNELBASE,
 * wow64*, the C runtimes, WER, …). A frame with no module at all (`0xbf7c0`: code outside every
 * module) counts as the program's: that is where it ran. When no frame of the exception path is
 * printed, or every frame past it is Windows' own, there is no faulting frame (null): guessing
 * would point an engineer at the wrong code.
 */
export function faultingFrameIndex(frames: readonly Frame[]): number | null {
  let last = -1;
  for (let i = 0; i < frames.length; i++) if (EXCEPTION_PATH.test(frames[i].callSite)) last = i;
  if (last < 0) return null;
  for (let i = last + 1; i < frames.length; i++) {
    const f = frames[i];
    if (f.inline) continue;
    if (!isSystemModule(f.module)) return i;
  }
  return null;
}

// Frames that raise or dispatch an exception, or report it: everything up to the last of them is
// the machinery, not the program.
const EXCEPTION_PATH =
  /KiUserExceptionDispatch|RtlDispatchException|KiDispatchException|RtlRaiseException|(?:^|!)RaiseException|_CxxThrowException|UnhandledExceptionFilter|WerpReportFault|RtlpExecuteHandlerForException|_C_specific_handler|KiExceptionDispatch/;

/** Modules of Windows itself, its C runtimes and Error Reporting, lower case, without extension. */
const SYSTEM_MODULES: ReadonlySet<string> = new Set([
  'nt',
  'ntoskrnl',
  'ntkrnlpa',
  'ntkrnlmp',
  'ntkrpamp',
  'hal',
  'ntdll',
  'kernel32',
  'kernelbase',
  'wow64',
  'wow64cpu',
  'wow64win',
  'wow64base',
  'wow64con',
  'user32',
  'win32u',
  'gdi32',
  'gdi32full',
  'combase',
  'ole32',
  'rpcrt4',
  'sechost',
  'advapi32',
  'msvcrt',
  'ucrtbase',
  'faultrep',
  'wer',
  'werfault',
  'wersvc',
  'dbghelp',
  'dbgcore',
]);

/** True for Windows', the C runtimes' and WER's modules (`ntdll_77d80000` is ntdll seen from WOW64). */
export function isSystemModule(module: string | null): boolean {
  if (module === null) return false;
  let m = module.toLowerCase();
  const dot = m.lastIndexOf('.');
  if (dot > 0) m = m.slice(0, dot);
  m = m.replace(/_[0-9a-f]{8,16}$/, '');
  if (SYSTEM_MODULES.has(m)) return true;
  // Versioned C and C++ runtimes: msvcr120, msvcp140, vcruntime140, vcruntime140_1.
  return /^(?:msvc[rp]\d+d?|vcruntime\d+(?:_\d+)?d?)$/.test(m);
}
