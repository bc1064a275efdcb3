export { freePort } from './lib/free-port';
export { REDIS_INSTALL_HINT, startTestRedis, type TestRedis } from './lib/redis-server';
export {
  runUntilExit,
  type ServiceProcess,
  startService,
  type StartOptions,
  WORKSPACE_ROOT,
} from './lib/service-process';
export { itKeepsTheServiceLifecycle } from './lib/lifecycle';
export { type DnsStub, startDnsStub } from './lib/dns-stub';
export {
  type ConformanceCheck,
  type ConformanceRun,
  excludedIn2026,
  runAuthorizationConformance,
  runConformance,
} from './lib/conformance';
export { connectMcp, initializeRequest, type McpConnection, postMcp } from './lib/mcp-client';
export { DocumentServer } from './lib/document-server';
export { launchChromium } from './lib/chromium';
