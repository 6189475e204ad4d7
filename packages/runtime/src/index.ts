/** @dumpstream/runtime: what every service shares: configuration, logs, health, shutdown. */
export { loadConfig, ConfigError, isConfigError, ENVIRONMENT, consumerTimeouts, parseDurationMs } from './config';
export type { Config, Listen } from './config';
export { createLog, silentLog, redact } from './log';
export type { LogLevel } from './log';
export { healthRoutes, startHealthServer } from './health';
export type { ReadinessCheck } from './health';
export { stopOnSignals, withRetry } from './lifecycle';
