import { loadRawEnv } from '@gateway/config';
import { type GatewayTopology, resolveTopology } from '@gateway/catalog';

/** Injection token of the resolved service catalog (issuer, services, URLs). */
export const TOPOLOGY = Symbol('TOPOLOGY');

export const topologyProvider = { provide: TOPOLOGY, useFactory: (): GatewayTopology => resolveTopology(loadRawEnv()) };
