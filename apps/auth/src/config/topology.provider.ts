import type { GatewayTopology } from '@gateway/catalog';
import { AuthEnv } from './auth.env';

/** Injection token of the resolved service catalog (issuer, services, URLs). */
export const TOPOLOGY = Symbol('TOPOLOGY');

/** The catalog resolved once, with the environment (`AuthEnv.topology`); nobody reads `process.env` for it. */
export const topologyProvider = {
  provide: TOPOLOGY,
  inject: [AuthEnv],
  useFactory: (env: AuthEnv): GatewayTopology => env.topology,
};
