/**
 * What real dumps contain, per OS family: process images, module load addresses and the frames
 * of typical stacks (with the offsets real builds print). Pure data plus tiny parsers.
 */
import type { Addr } from './format';
import type { Arch, Os } from './spec';

/** NT 4 and Windows 7 print differently from Windows 10/11; Windows 11 formats as Windows 10. */
export type Family = 'nt4' | 'win7' | 'win10';

/** The family whose formats an OS uses. */
export function familyOf(os: Os): Family {
  return os === 'nt4' ? 'nt4' : os === 'win7' ? 'win7' : 'win10';
}

/** One frame of a template: module, function (may be empty for a bare module+offset), offset. */
export interface FrameSpec {
  readonly m: string;
  readonly f: string;
  readonly o: number;
  /** NT 4 kernel frames print without the `nt!` prefix. */
  readonly bare?: boolean;
  /** The call site as printed (`mod!fn+0x1a`), precomputed for template frames. */
  readonly site?: string;
}

/** The call site text of a frame: `mod!fn+0x1a`, `fn+0x1a` (bare), `mod!fn` (offset 0). */
export function siteOf(f: FrameSpec): string {
  const off = f.o ? '+0x' + f.o.toString(16) : '';
  if (f.bare) return f.f + off;
  if (f.f === '') return `${f.m}+0x${f.o.toString(16)}`;
  return `${f.m}!${f.f}${off}`;
}

/** Parses `mod!fn+0x1a` (or `fn+0x1a`, meaning a bare NT 4 kernel frame). */
export function frame(text: string): FrameSpec {
  const bang = text.indexOf('!');
  const plus = text.lastIndexOf('+0x');
  const o = plus >= 0 ? parseInt(text.slice(plus + 3), 16) : 0;
  const end = plus >= 0 ? plus : text.length;
  const spec: FrameSpec = bang < 0 ? { m: 'nt', f: text.slice(0, end), o, bare: true } : { m: text.slice(0, bang), f: text.slice(bang + 1, end), o };
  return { ...spec, site: siteOf(spec) };
}

const frames = (...t: string[]): FrameSpec[] => t.map(frame);

/** Kinds of ordinary (non-crashing) threads. */
export type ThreadKind = 'single' | 'queue' | 'gui' | 'sleep' | 'alpc' | 'system' | 'running';

/** Kernel-mode frames, top first, for each wait kind; `multi` is the wait of a faulting thread. */
export type KernelFrames = Record<ThreadKind | 'multi', FrameSpec[]>;

/** User-mode frames: `top`, then app frames (when `app`), then `bottom`. */
export interface UserTemplate {
  readonly top: FrameSpec[];
  readonly app: boolean;
  readonly bottom: FrameSpec[];
}

/**
 * User stacks of one bitness. `fault` is the exception path down to KiUserExceptionDispatcher
 * (the faulting code's frames go between `fault.top` and `fault.bottom`); `werLeaf` is a
 * WerFault.exe busy reporting; `wow64View` is the 64-bit side of a WOW64 thread.
 */
export interface UserFrames {
  readonly kinds: Record<Exclude<ThreadKind, 'system' | 'running'>, UserTemplate>;
  readonly fault: UserTemplate;
  readonly werLeaf: UserTemplate;
  readonly werFault: FrameSpec[];
}

const K7_BASE = ['nt!KiSwapContext+0x7a', 'nt!KiCommitThreadWait+0x1d2'];
const K7_SYS = 'nt!KiSystemServiceCopyEnd+0x13';
const K10_BASE = ['nt!KiSwapContext+0x76', 'nt!KiSwapThread+0x500', 'nt!KiCommitThreadWait+0x14f'];
const K10_SYS = 'nt!KiSystemServiceCopyEnd+0x25';
const K86_BASE = ['nt!KiSwapContext+0x26', 'nt!KiSwapThread+0x266', 'nt!KiCommitThreadWait+0x1df'];
const K86_SYS = 'nt!KiFastCallEntry+0x12a';
const RUNNING_TAIL = ['nt!KiInterruptDispatch', 'nt!KiIdleLoop'];

/** Kernel frames per family and architecture. */
export function kernelFrames(family: Family, arch: Arch): KernelFrames {
  if (family === 'nt4') {
    const b = ['KiSwapThread+0xb5'];
    return {
      single: frames(...b, 'KeWaitForSingleObject+0x1c2', 'NtWaitForSingleObject+0x9b', 'KiSystemService+0xc4'),
      multi: frames(...b, 'KeWaitForMultipleObjects+0x1ef', 'NtWaitForMultipleObjects+0x1a1', 'KiSystemService+0xc4'),
      queue: frames(...b, 'KeRemoveQueue+0x19b', 'NtRemoveIoCompletion+0x8d', 'KiSystemService+0xc4'),
      gui: frames(...b, 'KeWaitForSingleObject+0x1c2', 'win32k!xxxSleepThread+0x18c', 'win32k!xxxInternalGetMessage+0x1b8', 'win32k!NtUserGetMessage+0x2e', 'KiSystemService+0xc4'),
      sleep: frames(...b, 'KeDelayExecutionThread+0x1a4', 'NtDelayExecution+0x5c', 'KiSystemService+0xc4'),
      alpc: frames(...b, 'KeWaitForSingleObject+0x1c2', 'NtReplyWaitReceivePort+0x1a7', 'KiSystemService+0xc4'),
      system: frames(...b, 'KeRemoveQueue+0x19b', 'ExpWorkerThread+0x73', 'PspSystemThreadStartup+0x54', 'KiThreadStartup+0x16'),
      running: frames('KeBugCheckEx+0x19', 'i8042prt!I8xProcessCrashDump+0x237', 'i8042prt!I8042KeyboardInterruptService+0x21c', 'KiInterruptDispatch+0x3e', 'KiIdleLoop+0x10'),
    };
  }
  if (arch === 'x86') {
    return {
      single: frames(...K86_BASE, 'nt!KeWaitForSingleObject+0x393', 'nt!NtWaitForSingleObject+0xc6', K86_SYS),
      multi: frames(...K86_BASE, 'nt!KeWaitForMultipleObjects+0x535', 'nt!ObpWaitForMultipleObjects+0x262', 'nt!NtWaitForMultipleObjects+0xcd', K86_SYS),
      queue: frames(...K86_BASE, 'nt!KeRemoveQueueEx+0x4f9', 'nt!IoRemoveIoCompletion+0x23', 'nt!NtWaitForWorkViaWorkerFactory+0x1c7', K86_SYS),
      gui: frames(...K86_BASE, 'nt!KeWaitForSingleObject+0x393', 'win32k!xxxRealSleepThread+0x1d7', 'win32k!xxxSleepThread+0x2d', 'win32k!xxxRealInternalGetMessage+0x4a5', 'win32k!NtUserGetMessage+0x3f', K86_SYS),
      sleep: frames(...K86_BASE, 'nt!KeDelayExecutionThread+0x2ce', 'nt!NtDelayExecution+0x8d', K86_SYS),
      alpc: frames(...K86_BASE, 'nt!KeWaitForSingleObject+0x393', 'nt!AlpcpReceiveMessagePort+0x1a6', 'nt!AlpcpReceiveMessage+0x1ad', 'nt!NtAlpcSendWaitReceivePort+0x2d6', K86_SYS),
      system: frames(...K86_BASE, 'nt!KeRemoveQueueEx+0x4f9', 'nt!ExpWorkerThread+0x10d', 'nt!PspSystemThreadStartup+0x9e', 'nt!KiThreadStartup+0x19'),
      running: frames('nt!KeBugCheckEx+0x1e', 'i8042prt!I8xProcessCrashDump+0x237', 'i8042prt!I8042KeyboardInterruptService+0x21c', ...RUNNING_TAIL.map((f) => f + '+0x4a')),
    };
  }
  if (family === 'win7') {
    return {
      single: frames(...K7_BASE, 'nt!KeWaitForSingleObject+0x19f', 'nt!NtWaitForSingleObject+0xde', K7_SYS),
      multi: frames(...K7_BASE, 'nt!KeWaitForMultipleObjects+0x271', 'nt!ObpWaitForMultipleObjects+0x294', 'nt!NtWaitForMultipleObjects+0xe5', K7_SYS),
      queue: frames(...K7_BASE, 'nt!KeRemoveQueueEx+0x323', 'nt!IoRemoveIoCompletion+0x47', 'nt!NtWaitForWorkViaWorkerFactory+0x285', K7_SYS),
      gui: frames(...K7_BASE, 'nt!KeWaitForSingleObject+0x19f', 'win32k!xxxRealSleepThread+0x257', 'win32k!xxxSleepThread+0x56', 'win32k!xxxRealInternalGetMessage+0x72e', 'win32k!NtUserGetMessage+0x78', K7_SYS),
      sleep: frames(...K7_BASE, 'nt!KeDelayExecutionThread+0x186', 'nt!NtDelayExecution+0x59', K7_SYS),
      alpc: frames(...K7_BASE, 'nt!KeWaitForSingleObject+0x19f', 'nt!AlpcpReceiveMessagePort+0x189', 'nt!AlpcpReceiveMessage+0x2b4', 'nt!NtAlpcSendWaitReceivePort+0x1e6', K7_SYS),
      system: frames(...K7_BASE, 'nt!KeRemoveQueueEx+0x323', 'nt!ExpWorkerThread+0xe8', 'nt!PspSystemThreadStartup+0x5a', 'nt!KxStartSystemThread+0x16'),
      running: frames('nt!KeBugCheckEx', 'i8042prt!I8xProcessCrashDump+0x237', 'i8042prt!I8042KeyboardInterruptService+0x21c', 'nt!KiInterruptDispatch+0x16c', 'nt!KiIdleLoop+0x2c'),
    };
  }
  return {
    single: frames(...K10_BASE, 'nt!KeWaitForSingleObject+0x233', 'nt!ObWaitForSingleObject+0x91', 'nt!NtWaitForSingleObject+0x6a', K10_SYS),
    multi: frames(...K10_BASE, 'nt!KeWaitForMultipleObjects+0x45b', 'nt!ObWaitForMultipleObjects+0x2f8', 'nt!NtWaitForMultipleObjects+0x105', K10_SYS),
    queue: frames(...K10_BASE, 'nt!KeRemoveQueueEx+0x263', 'nt!IoRemoveIoCompletion+0x98', 'nt!NtWaitForWorkViaWorkerFactory+0xdc8', K10_SYS),
    gui: frames(...K10_BASE, 'nt!KeWaitForSingleObject+0x233', 'win32kfull!xxxRealSleepThread+0x315', 'win32kfull!xxxSleepThread2+0xb5', 'win32kfull!xxxRealInternalGetMessage+0x1534', 'win32kfull!NtUserGetMessage+0x8c', 'win32k!NtUserGetMessage+0x16', K10_SYS),
    sleep: frames(...K10_BASE, 'nt!KeDelayExecutionThread+0x122', 'nt!NtDelayExecution+0x5f', K10_SYS),
    alpc: frames(...K10_BASE, 'nt!KeWaitForSingleObject+0x233', 'nt!AlpcpWaitForSingleObject+0x3e', 'nt!AlpcpReceiveMessagePort+0x3f5', 'nt!AlpcpReceiveMessage+0x361', 'nt!NtAlpcSendWaitReceivePort+0x105', K10_SYS),
    system: frames(...K10_BASE, 'nt!KeRemoveQueueEx+0x263', 'nt!ExpWorkerThread+0x105', 'nt!PspSystemThreadStartup+0x55', 'nt!KiStartSystemThread+0x28'),
    running: frames('nt!KeBugCheckEx', 'i8042prt!I8xProcessCrashDump+0x291', 'i8042prt!I8042KeyboardInterruptService+0x27d', 'nt!KiCallInterruptServiceRoutine+0x106', 'nt!KiInterruptSubDispatch+0x5f', 'nt!KiInterruptDispatch+0x37', 'nt!KiIdleLoop+0x9e'),
  };
}

const tmpl = (top: string[], app: boolean, bottom: string[]): UserTemplate => ({ top: frames(...top), app, bottom: frames(...bottom) });

const WER_FAULT_64 = ['wer!CReportMemoryDump::CollectDumpData+0x1f2', 'wer!CReportManager::AddDump+0x9e', 'faultrep!CCrashWatson::GenerateCrashReport+0x2ac', 'faultrep!WerpInitiateCrashReporting+0x4b8', 'WerFault!UserCrashMain+0x14e', 'WerFault!wmain+0xbf'];
const WER_FAULT_32 = ['wer!CReportMemoryDump::CollectDumpData+0x1a9', 'wer!CReportManager::AddDump+0x85', 'faultrep!CCrashWatson::GenerateCrashReport+0x24d', 'faultrep!WerpInitiateCrashReporting+0x3f1', 'WerFault!UserCrashMain+0x12c', 'WerFault!wmain+0xa5'];

/** User frames of native 64-bit processes. */
export function user64(family: Family, os: Os): UserFrames {
  if (family === 'win7') {
    const base = ['kernel32!BaseThreadInitThunk+0xd', 'ntdll!RtlUserThreadStart+0x1d'];
    return {
      kinds: {
        single: tmpl(['ntdll!ZwWaitForSingleObject+0xa', 'KERNELBASE!WaitForSingleObjectEx+0x79'], true, base),
        queue: tmpl(['ntdll!ZwWaitForWorkViaWorkerFactory+0xa', 'ntdll!TppWorkerThread+0x2c9'], false, base),
        gui: tmpl(['USER32!ZwUserGetMessage+0xa', 'USER32!GetMessageW+0x34'], true, base),
        sleep: tmpl(['ntdll!ZwDelayExecution+0xa', 'KERNELBASE!SleepEx+0xab'], true, base),
        alpc: tmpl(['ntdll!ZwAlpcSendWaitReceivePort+0xa', 'RPCRT4!LRPC_ADDRESS::ReceiveLotsaCalls+0xe9', 'RPCRT4!Thread::StartRoutine+0x1b'], false, base),
      },
      fault: tmpl(
        ['ntdll!ZwWaitForMultipleObjects+0xa', 'KERNELBASE!WaitForMultipleObjectsEx+0xe8', 'kernel32!WaitForMultipleObjectsExImplementation+0xb3', 'kernel32!WerpReportFaultInternal+0x215', 'kernel32!WerpReportFault+0x77', 'kernel32!BasepReportFault+0x1f', 'kernel32!UnhandledExceptionFilter+0x1fc', "ntdll! ?? ::FNODOBFM::`string'+0x2365", 'ntdll!_C_specific_handler+0x8c', 'ntdll!RtlpExecuteHandlerForException+0xd', 'ntdll!RtlDispatchException+0x45a', 'ntdll!KiUserExceptionDispatcher+0x2e'],
        true,
        base,
      ),
      werLeaf: tmpl(['ntdll!ZwWaitForMultipleObjects+0xa', 'KERNELBASE!WaitForMultipleObjectsEx+0xe8', 'kernel32!WaitForMultipleObjectsExImplementation+0xb3', 'USER32!RealMsgWaitForMultipleObjectsEx+0x12a', 'USER32!MsgWaitForMultipleObjects+0x20', 'wer!UtilMsgWaitForMultipleObjects+0x6e', 'wer!CReportManager::ReportProblemOutOfProcess+0x659', 'wer!CReportManager::ReportProblem+0x1eb', 'faultrep!CCrashWatson::ReportCrash+0x2c1', 'WerFault!UserCrashMain+0x14e', 'WerFault!wmain+0xbf', 'WerFault!__wmainCRTStartup+0x13b'], false, base),
      werFault: frames(...WER_FAULT_64, 'WerFault!__wmainCRTStartup+0x13b'),
    };
  }
  const base = os === 'win11' ? ['KERNEL32!BaseThreadInitThunk+0x1d', 'ntdll!RtlUserThreadStart+0x28'] : ['KERNEL32!BaseThreadInitThunk+0x14', 'ntdll!RtlUserThreadStart+0x21'];
  return {
    kinds: {
      single: tmpl(['ntdll!NtWaitForSingleObject+0x14', 'KERNELBASE!WaitForSingleObjectEx+0x8e'], true, base),
      queue: tmpl(['ntdll!NtWaitForWorkViaWorkerFactory+0x14', 'ntdll!TppWorkerThread+0x2ee'], false, base),
      gui: tmpl(['win32u!NtUserGetMessage+0x14', 'USER32!GetMessageW+0x2e'], true, base),
      sleep: tmpl(['ntdll!NtDelayExecution+0x14', 'KERNELBASE!SleepEx+0x9e'], true, base),
      alpc: tmpl(['ntdll!NtAlpcSendWaitReceivePort+0x14', 'RPCRT4!LrpcIoComplete+0xc7', 'ntdll!TppAlpcpExecuteCallback+0x14d', 'ntdll!TppWorkerThread+0x8d9'], false, base),
    },
    fault: tmpl(
      ['ntdll!NtWaitForMultipleObjects+0x14', 'KERNELBASE!WaitForMultipleObjectsEx+0xf0', 'KERNELBASE!WaitForMultipleObjects+0xe', 'KERNEL32!WerpReportFaultInternal+0x51b', 'KERNEL32!WerpReportFault+0xac', 'KERNELBASE!UnhandledExceptionFilter+0x3b9', 'ntdll!RtlUserThreadStart$filt$0+0xa2', 'ntdll!_C_specific_handler+0x96', 'ntdll!RtlpExecuteHandlerForException+0xf', 'ntdll!RtlDispatchException+0x219', 'ntdll!KiUserExceptionDispatch+0x2e'],
      true,
      base,
    ),
    werLeaf: tmpl(['ntdll!NtWaitForMultipleObjects+0x14', 'KERNELBASE!WaitForMultipleObjectsEx+0xf0', 'USER32!RealMsgWaitForMultipleObjectsEx+0x1e3', 'USER32!MsgWaitForMultipleObjects+0x1f', 'wer!UtilMsgWaitForMultipleObjects+0x5d', 'wer!CReportManager::ReportProblemOutOfProcess+0x6c5', 'wer!CReportManager::ReportProblem+0x1e5', 'faultrep!CCrashWatson::ReportCrash+0x34d', 'WerFault!UserCrashMain+0x1f5', 'WerFault!wmain+0xbf', 'WerFault!__wmainCRTStartup+0x13b'], false, base),
    werFault: frames(...WER_FAULT_64, 'WerFault!__wmainCRTStartup+0x13b'),
  };
}

/** User frames of 32-bit code: native on x86, or a WOW64 thread seen through `.thread /w`. */
export function user32(family: Family, nativeX86: boolean): UserFrames {
  if (family === 'win10') {
    const base = ['KERNEL32!BaseThreadInitThunk+0x19', 'ntdll!__RtlUserThreadStart+0x2b', 'ntdll!_RtlUserThreadStart+0x1b'];
    return {
      kinds: {
        single: tmpl(['ntdll!NtWaitForSingleObject+0xc', 'KERNELBASE!WaitForSingleObjectEx+0x99', 'KERNELBASE!WaitForSingleObject+0x12'], true, base),
        queue: tmpl(['ntdll!NtWaitForWorkViaWorkerFactory+0xc', 'ntdll!TppWorkerThread+0x2a6'], false, base),
        gui: tmpl(['win32u!NtUserGetMessage+0xc', 'USER32!GetMessageW+0x2e'], true, base),
        sleep: tmpl(['ntdll!NtDelayExecution+0xc', 'KERNELBASE!SleepEx+0x8a', 'KERNELBASE!Sleep+0xf'], true, base),
        alpc: tmpl(['ntdll!NtAlpcSendWaitReceivePort+0xc', 'RPCRT4!LrpcIoComplete+0xa5', 'ntdll!TppAlpcpExecuteCallback+0x17a', 'ntdll!TppWorkerThread+0x5b2'], false, base),
      },
      fault: tmpl(
        ['ntdll!NtWaitForMultipleObjects+0xc', 'KERNELBASE!WaitForMultipleObjectsEx+0x103', 'KERNELBASE!WaitForMultipleObjects+0x18', 'KERNEL32!WerpReportFaultInternal+0x545', 'KERNEL32!WerpReportFault+0x7a', 'KERNELBASE!UnhandledExceptionFilter+0x1b2', 'ntdll!__RtlUserThreadStart+0x3c7ee', 'ntdll!_EH4_CallFilterFunc+0x12', 'ntdll!_except_handler4+0x8e', 'ntdll!ExecuteHandler2+0x26', 'ntdll!ExecuteHandler+0x24', 'ntdll!RtlDispatchException+0x147', 'ntdll!KiUserExceptionDispatcher+0xf'],
        true,
        base,
      ),
      werLeaf: tmpl(['ntdll!NtWaitForMultipleObjects+0xc', 'KERNELBASE!WaitForMultipleObjectsEx+0x103', 'USER32!RealMsgWaitForMultipleObjectsEx+0x7d', 'USER32!MsgWaitForMultipleObjects+0x1f', 'wer!UtilMsgWaitForMultipleObjects+0x4a', 'wer!CReportManager::ReportProblemOutOfProcess+0x5e1', 'wer!CReportManager::ReportProblem+0x1c9', 'faultrep!CCrashWatson::ReportCrash+0x2f6', 'WerFault!UserCrashMain+0x12c', 'WerFault!wmain+0xa5', 'WerFault!_wmainCRTStartup+0x119'], false, base),
      werFault: frames(...WER_FAULT_32, 'WerFault!_wmainCRTStartup+0x119'),
    };
  }
  const fast = nativeX86 && family !== 'nt4' ? ['ntdll!KiFastSystemCallRet'] : [];
  const sys = nativeX86 ? 0xc : 0x15;
  const z = (name: string): string => `ntdll!Zw${name}+0x${sys.toString(16)}`;
  const base = family === 'nt4' ? ['KERNEL32!BaseThreadStart+0x52'] : ['kernel32!BaseThreadInitThunk+0xe', 'ntdll!__RtlUserThreadStart+0x70', 'ntdll!_RtlUserThreadStart+0x1b'];
  const k32 = family === 'nt4' ? 'KERNEL32' : 'kernel32';
  const kb = family === 'nt4' ? 'KERNEL32' : 'KERNELBASE';
  return {
    kinds: {
      single: tmpl([...fast, z('WaitForSingleObject'), `${kb}!WaitForSingleObjectEx+0x98`, `${k32}!WaitForSingleObjectExImplementation+0x75`, `${k32}!WaitForSingleObject+0x12`], true, base),
      queue: tmpl([...fast, z('WaitForWorkViaWorkerFactory'), 'ntdll!TppWorkerThread+0x2df'], false, base),
      gui: tmpl([...fast, 'USER32!NtUserGetMessage+0x15', 'USER32!GetMessageW+0x33'], true, base),
      sleep: tmpl([...fast, z('DelayExecution'), `${kb}!SleepEx+0x65`, `${kb}!Sleep+0xf`], true, base),
      alpc: tmpl([...fast, z('AlpcSendWaitReceivePort'), 'RPCRT4!LRPC_ADDRESS::ReceiveLotsaCalls+0xbb', 'RPCRT4!ThreadStartRoutine+0x1b'], false, base),
    },
    fault: tmpl(
      [...fast, z('WaitForMultipleObjects'), `${kb}!WaitForMultipleObjectsEx+0x100`, `${k32}!WaitForMultipleObjectsExImplementation+0xe0`, `${k32}!WaitForMultipleObjects+0x18`, `${k32}!WerpReportFaultInternal+0x186`, `${k32}!WerpReportFault+0x70`, `${k32}!BasepReportFault+0x20`, `${k32}!UnhandledExceptionFilter+0x1af`, 'ntdll!__RtlUserThreadStart+0x62', 'ntdll!_EH4_CallFilterFunc+0x12', 'ntdll!_except_handler4+0x8e', 'ntdll!ExecuteHandler2+0x26', 'ntdll!ExecuteHandler+0x24', 'ntdll!RtlDispatchException+0x127', 'ntdll!KiUserExceptionDispatcher+0xf'],
      true,
      base,
    ),
    werLeaf: tmpl([...fast, z('WaitForMultipleObjects'), `${kb}!WaitForMultipleObjectsEx+0x100`, `${k32}!WaitForMultipleObjectsExImplementation+0xe0`, 'USER32!RealMsgWaitForMultipleObjectsEx+0x13c', 'USER32!MsgWaitForMultipleObjects+0x1f', 'wer!UtilMsgWaitForMultipleObjects+0x6e', 'wer!CReportManager::ReportProblemOutOfProcess+0x5c4', 'wer!CReportManager::ReportProblem+0x1ec', 'faultrep!CCrashWatson::ReportCrash+0x2f6', 'WerFault!UserCrashMain+0x12c', 'WerFault!wmain+0xa5', 'WerFault!_wmainCRTStartup+0x119'], false, base),
    werFault: frames(...WER_FAULT_32, 'WerFault!_wmainCRTStartup+0x119'),
  };
}

/** The 64-bit side of a WOW64 thread, as `!process … ff` prints it without `.thread /w`. */
export function wow64View(family: Family, waitMultiple: boolean): FrameSpec[] {
  if (family === 'win10') {
    return frames('wow64cpu!CpupSyscallStub+0xc', waitMultiple ? 'wow64cpu!WaitForMultipleObjects32+0x3b' : 'wow64cpu!Thunk0ArgReloadState+0x5', 'wow64cpu!BTCpuSimulate+0x9', 'wow64!RunCpuSimulation+0xd', 'wow64!Wow64LdrpInitialize+0x12d', 'ntdll!LdrpInitializeProcess+0x1932', 'ntdll!_LdrpInitialize+0x4e1df', 'ntdll!LdrpInitializeInternal+0x6b', 'ntdll!LdrInitializeThunk+0xe');
  }
  return frames('wow64cpu!CpupSyscallStub+0x9', waitMultiple ? 'wow64cpu!WaitForMultipleObjects32+0x32' : 'wow64cpu!Thunk0ArgReloadState+0x1a', 'wow64!RunCpuSimulation+0xa', 'wow64!Wow64LdrpInitialize+0x429', 'ntdll!LdrpInitializeProcess+0x1780', "ntdll! ?? ::FNODOBFM::`string'+0x2af20", 'ntdll!LdrInitializeThunk+0xe');
}

/** Load addresses of system modules: kernel space, native user space and 32-bit user space. */
export function moduleBases(family: Family, arch: Arch): { kernel: Record<string, Addr>; user64: Record<string, Addr>; user32: Record<string, Addr> } {
  const a = (hi: number, lo: number): Addr => ({ hi, lo });
  const u32 = (lo: number): Addr => a(0, lo);
  if (family === 'nt4') {
    return {
      kernel: { nt: u32(0x80100000), win32k: u32(0xa0000000), i8042prt: u32(0xfb2b0000) },
      user64: {},
      user32: { ntdll: u32(0x77f60000), KERNEL32: u32(0x77f00000), USER32: u32(0x77e70000), RPCRT4: u32(0x77e10000), wer: u32(0x76f00000), faultrep: u32(0x76e80000), WerFault: u32(0x01000000) },
    };
  }
  const user32Map: Record<string, Addr> = family === 'win7'
    ? { ntdll: u32(0x77600000), kernel32: u32(0x76ba0000), KERNELBASE: u32(0x77070000), USER32: u32(0x76f10000), RPCRT4: u32(0x76d80000), wer: u32(0x6f2d0000), faultrep: u32(0x6f6a0000), WerFault: u32(0x00c20000) }
    : { ntdll: u32(0x77c30000), KERNEL32: u32(0x76550000), KERNELBASE: u32(0x75a20000), USER32: u32(0x76d80000), win32u: u32(0x75f00000), RPCRT4: u32(0x76a40000), wer: u32(0x72f40000), faultrep: u32(0x73110000), WerFault: u32(0x00fd0000) };
  if (arch === 'x86') {
    return { kernel: { nt: u32(0x82a0b000), win32k: u32(0x98c00000), i8042prt: u32(0x8f6d0000) }, user64: {}, user32: user32Map };
  }
  if (family === 'win7') {
    return {
      kernel: { nt: a(0xfffff800, 0x01a5f000), win32k: a(0xfffff960, 0x000a0000), i8042prt: a(0xfffff880, 0x04a42000) },
      user64: { ntdll: a(0, 0x77a20000), kernel32: a(0, 0x77900000), KERNELBASE: a(0x7fe, 0xfdb40000), USER32: a(0, 0x77800000), RPCRT4: a(0x7fe, 0xfe9b0000), wow64cpu: a(0, 0x74580000), wow64: a(0, 0x745e0000), wer: a(0x7fe, 0xfa9b0000), faultrep: a(0x7fe, 0xf9e20000), WerFault: a(0, 0xff8f0000) },
      user32: user32Map,
    };
  }
  return {
    kernel: { nt: a(0xfffff807, 0x1e000000), win32k: a(0xffff9b63, 0x28a00000), win32kfull: a(0xffff9b63, 0x28e00000), i8042prt: a(0xfffff807, 0x21c40000) },
    user64: { ntdll: a(0x7ffe, 0x5edb0000), KERNEL32: a(0x7ffe, 0x5e530000), KERNELBASE: a(0x7ffe, 0x5ca70000), USER32: a(0x7ffe, 0x5d160000), win32u: a(0x7ffe, 0x5ca40000), RPCRT4: a(0x7ffe, 0x5cf90000), wow64cpu: a(0x7ffe, 0x5a2e0000), wow64: a(0x7ffe, 0x5a330000), wer: a(0x7ffe, 0x4c8b0000), faultrep: a(0x7ffe, 0x4d2a0000), WerFault: a(0x7ff7, 0x3a5c0000) },
    user32: user32Map,
  };
}

/** A process image and the image that usually starts it (`''`: an exited parent). */
export interface ImageSpec {
  readonly image: string;
  readonly parent: string;
  /** Thread kinds this image's threads are drawn from, first one favoured. */
  readonly kinds: readonly ThreadKind[];
}

const img = (image: string, parent: string, ...kinds: ThreadKind[]): ImageSpec => ({ image, parent, kinds });

/** The processes every system of a family starts with, in creation order. */
export function skeleton(family: Family): ImageSpec[] {
  if (family === 'nt4') {
    return [img('System', '', 'system'), img('smss.exe', 'System', 'single'), img('csrss.exe', 'smss.exe', 'alpc', 'single'), img('winlogon.exe', 'smss.exe', 'gui', 'single'), img('services.exe', 'winlogon.exe', 'single', 'alpc'), img('lsass.exe', 'winlogon.exe', 'alpc', 'single'), img('SPOOLSS.EXE', 'services.exe', 'single'), img('RpcSs.exe', 'services.exe', 'alpc'), img('explorer.exe', '', 'gui', 'single')];
  }
  const common = [img('services.exe', 'wininit.exe', 'single', 'alpc'), img('lsass.exe', 'wininit.exe', 'alpc', 'queue')];
  if (family === 'win7') {
    return [img('System', '', 'system'), img('smss.exe', 'System', 'single'), img('csrss.exe', '', 'alpc', 'single'), img('wininit.exe', '', 'single'), img('csrss.exe', '', 'alpc', 'single'), img('winlogon.exe', '', 'gui', 'single'), ...common, img('lsm.exe', 'wininit.exe', 'alpc'), img('svchost.exe', 'services.exe', 'queue', 'alpc'), img('svchost.exe', 'services.exe', 'queue', 'alpc'), img('svchost.exe', 'services.exe', 'queue', 'single'), img('spoolsv.exe', 'services.exe', 'single', 'queue'), img('explorer.exe', '', 'gui', 'queue', 'single')];
  }
  return [img('System', '', 'system'), img('Registry', 'System', 'system'), img('smss.exe', 'System', 'single'), img('csrss.exe', '', 'alpc', 'single'), img('wininit.exe', '', 'single'), img('csrss.exe', '', 'alpc', 'single'), img('winlogon.exe', '', 'gui', 'single'), ...common, img('svchost.exe', 'services.exe', 'queue', 'alpc'), img('fontdrvhost.exe', 'winlogon.exe', 'single'), img('svchost.exe', 'services.exe', 'queue', 'alpc'), img('dwm.exe', 'winlogon.exe', 'gui', 'queue'), img('svchost.exe', 'services.exe', 'queue', 'single'), img('spoolsv.exe', 'services.exe', 'single', 'queue'), img('explorer.exe', '', 'gui', 'queue', 'single')];
}

/** Further processes, drawn at random after the skeleton. */
export function pool(family: Family): ImageSpec[] {
  if (family === 'nt4') {
    return [img('NOTEPAD.EXE', 'explorer.exe', 'gui'), img('WINWORD.EXE', 'explorer.exe', 'gui', 'single'), img('llssrv.exe', 'services.exe', 'single'), img('inetinfo.exe', 'services.exe', 'single', 'alpc'), img('nddeagnt.exe', 'winlogon.exe', 'gui'), img('CMD.EXE', 'explorer.exe', 'single'), img('tapisrv.exe', 'services.exe', 'single'), img('msdtc.exe', 'services.exe', 'single', 'alpc')];
  }
  const both = [
    img('svchost.exe', 'services.exe', 'queue', 'alpc', 'single'), img('svchost.exe', 'services.exe', 'queue', 'single'), img('svchost.exe', 'services.exe', 'alpc', 'queue'),
    img('conhost.exe', family === 'win7' ? 'csrss.exe' : 'cmd.exe', 'gui', 'single'), img('cmd.exe', 'explorer.exe', 'single'), img('powershell.exe', 'explorer.exe', 'queue', 'single'),
    img('chrome.exe', 'explorer.exe', 'queue', 'gui', 'single'), img('OUTLOOK.EXE', 'explorer.exe', 'gui', 'queue', 'single'), img('WINWORD.EXE', 'explorer.exe', 'gui', 'queue'), img('EXCEL.EXE', 'explorer.exe', 'gui', 'queue'),
    img('notepad.exe', 'explorer.exe', 'gui'), img('mstsc.exe', 'explorer.exe', 'gui', 'queue'), img('taskmgr.exe', 'explorer.exe', 'gui', 'sleep'),
    img('sqlservr.exe', 'services.exe', 'queue', 'single', 'sleep'), img('w3wp.exe', 'svchost.exe', 'queue', 'single'), img('MsMpEng.exe', 'services.exe', 'queue', 'single'), img('SearchIndexer.exe', 'services.exe', 'queue', 'single'),
    img('dllhost.exe', 'svchost.exe', 'queue', 'alpc'), img('WmiPrvSE.exe', 'svchost.exe', 'queue', 'alpc'), img('vmtoolsd.exe', 'services.exe', 'sleep', 'single'), img('rdpclip.exe', 'svchost.exe', 'gui'), img('audiodg.exe', 'svchost.exe', 'queue', 'single'),
    img('TrustedInstaller.exe', 'services.exe', 'queue'), img('msdtc.exe', 'services.exe', 'alpc', 'queue'), img('spoolsv.exe', 'services.exe', 'single'),
  ];
  if (family === 'win7') return [...both, img('taskhost.exe', 'services.exe', 'queue', 'gui'), img('iexplore.exe', 'explorer.exe', 'gui', 'queue'), img('sppsvc.exe', 'services.exe', 'queue')];
  return [...both, img('taskhostw.exe', 'svchost.exe', 'queue', 'gui'), img('RuntimeBroker.exe', 'svchost.exe', 'queue'), img('sihost.exe', 'svchost.exe', 'queue', 'gui'), img('ctfmon.exe', 'svchost.exe', 'gui'), img('msedge.exe', 'explorer.exe', 'queue', 'gui'), img('Teams.exe', 'explorer.exe', 'queue', 'gui'), img('SearchApp.exe', 'svchost.exe', 'queue', 'gui'), img('StartMenuExperienceHost.exe', 'svchost.exe', 'gui')];
}

/** Images for the process that faults first: native 64-bit, or 32-bit (WOW64 / x86). */
export const ROOT_IMAGES_64 = ['explorer.exe', 'OUTLOOK.EXE', 'w3wp.exe', 'sqlservr.exe', 'MsMpEng.exe', 'spoolsv.exe', 'dllhost.exe', 'svchost.exe', 'notepad.exe', 'Teams.exe', 'java.exe', 'PrintIsolationHost.exe'] as const;
/** See {@link ROOT_IMAGES_64}. */
export const ROOT_IMAGES_32 = ['AcroRd32.exe', 'iexplore.exe', 'OUTLOOK.EXE', 'WINWORD.EXE', 'EXCEL.EXE', 'javaw.exe', 'CrashOnServer.exe', 'Skype.exe', 'vlc.exe', 'LegacyErp.exe'] as const;

/** Function names used for application frames (the module is the image name). */
export const APP_FUNCTIONS = ['wWinMain', 'wmain', 'ServiceMain', 'CMainWindow::OnTimer', 'CWorkerQueue::WaitForWork', 'CRpcServer::Listen', 'CDocument::Load', 'CCache::Flush', 'ProcessMessages', 'CSession::Run', 'CTaskScheduler::Dispatch', 'ThreadProc', 'CPluginHost::InvokeCallback', 'CHttpClient::ReceiveResponse', 'CStorage::ReadBlock', 'CConfig::Reload', 'HandleRequest', 'CEventLoop::Pump', 'CJob::Execute', 'CSyncObject::Wait'] as const;

/** Function names where synthetic faults happen. */
export const FAULT_FUNCTIONS = ['CImageDecoder::DecodeScanline', 'JsonParser::ParseValue', 'CStringBuffer::Append', 'CHeapBlock::Free', 'CListView::OnNotify', 'ParseRecord', 'CFontCache::Lookup', 'CPrintJob::RenderPage', 'CPluginHost::InvokeCallback', 'CTableRow::GetCell'] as const;

/** Module name of an image as the debugger prints it (`OUTLOOK.EXE` → `OUTLOOK`). */
export function moduleOf(image: string): string {
  const dot = image.lastIndexOf('.');
  return (dot > 0 ? image.slice(0, dot) : image).replace(/[^A-Za-z0-9_]/g, '_');
}

/** Banner facts of one OS: the kernel version line and the build string. */
export function osBanner(os: Os, arch: Arch, procs: number): { version: string; build: string; product: string } {
  const mp = procs > 1 ? `MP (${procs} procs)` : 'UP';
  switch (os) {
    case 'nt4':
      return { version: `Windows NT 4 Kernel Version 1381 ${mp} Free x86 compatible`, build: 'Built by: 1381.1.x86fre.sp6', product: 'Product: LanManNt, suite: TerminalServer' };
    case 'win7':
      return {
        version: `Windows 7 Kernel Version 7601 (Service Pack 1) ${mp} Free ${arch === 'x64' ? 'x64' : 'x86 compatible'}`,
        build: `Built by: 7601.24545.${arch === 'x64' ? 'amd64' : 'x86'}fre.win7sp1_ldr_escrow.200102-1707`,
        product: 'Product: Server, suite: TerminalServer',
      };
    case 'win10':
      return {
        version: `Windows 10 Kernel Version 19041 ${mp} Free ${arch === 'x64' ? 'x64' : 'x86 compatible'}`,
        build: `Edition build lab: 19041.1.${arch === 'x64' ? 'amd64' : 'x86'}fre.vb_release.191206-1406`,
        product: 'Product: WinNt, suite: TerminalServer SingleUserTS',
      };
    case 'win11':
      return {
        version: `Windows 10 Kernel Version 22621 ${mp} Free ${arch === 'x64' ? 'x64' : 'x86 compatible'}`,
        build: `Edition build lab: 22621.1.${arch === 'x64' ? 'amd64' : 'x86'}fre.ni_release.220506-1250`,
        product: 'Product: WinNt, suite: TerminalServer SingleUserTS',
      };
  }
}
