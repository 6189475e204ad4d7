/**
 * @dumpstream/fleet: what the fleet as a whole says. The signature that makes two dumps the same
 * fault (signature.ts), each signature's counts shared by every detect worker in Redis
 * (keys.ts, scripts.ts, state.ts), and the storm rule over them (rule.ts).
 */
export {
  SIGNATURE_VERSION,
  signatureOf,
  reportSignature,
  normaliseImage,
  normaliseModule,
  normaliseFunction,
  isSignature,
  NO_STACK,
  NO_FAULTING_FRAME,
  UNKNOWN_ROOT,
  NO_IMAGE,
  NO_MODULE,
  NO_FUNCTION,
} from './signature';
export type { SignatureFinding, SignatureFrame } from './signature';
export { FleetKeys } from './keys';
export { FleetState } from './state';
export type { FleetDump, FleetStateOptions, SignatureCounts, StormEventRecord, StormTransition } from './state';
export { BUCKET_MS, DEFAULT_STORM_SETTINGS, bucketOf, dumpsInWindow, nextStorm, stormReason } from './rule';
export type { StormSettings, StormReason, StormStatus, StormEventState, StormCounts } from './rule';
export { evaluateStorms, topSignatures } from './evaluate';
export type { StormEvaluation } from './evaluate';
