export { HealthController, type Pingable, READINESS_CHECKS, type ReadinessChecks } from './lib/health.controller';
export { logFormat, PlatformModule, type PlatformOptions, REDACTED_PATHS } from './lib/platform.module';
export { runService, type ServiceDescription } from './lib/run-service';
export { counter, gauge, histogram, instrumentHttp, serveMetrics } from './lib/metrics';
export { auditStream, type ToolCallRecord } from './lib/audit-stream';
