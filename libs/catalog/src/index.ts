export {
  type Egress,
  envKeyOf,
  SERVICES,
  type ServiceDefinition,
  type ServiceKind,
  type StdioCommand,
} from './lib/services';
export {
  resolveTopology,
  ROUTING_MODES,
  serviceForRequest,
  serviceForResource,
  type GatewayTopology,
  type ResolvedService,
  type RoutingMode,
} from './lib/topology';
