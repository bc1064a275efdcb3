export {
  type Egress,
  envKeyOf,
  SERVICES,
  type ServiceDefinition,
  type ServiceKind,
  type SessionState,
  type StdioCommand,
} from './lib/services';
export {
  EnvTopology,
  publicOrigins,
  resolveTopology,
  REPLICA_PORT_STEP,
  ROUTING_MODES,
  serviceForRequest,
  serviceForResource,
  type GatewayTopology,
  type ResolvedService,
  type RoutingMode,
} from './lib/topology';
export {
  BASE_SCOPE,
  grantableScopes,
  type Grantee,
  mayBeGranted,
  policiesNeed,
  type PolicyRequest,
  requiredScope,
  type ServicePolicy,
  type ServicePolicyDefinition,
  stepUpScope,
} from './lib/policy';
