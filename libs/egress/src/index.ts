export { AddressPolicy, parseRule, type PolicyLists, refusedAddressClass } from './lib/address-policy';
export { type EgressProxy, type EgressProxyOptions, startEgressProxy } from './lib/egress-proxy';
export { EgressFailed, EgressRefused } from './lib/errors';
export { createGuardedAgent, type GuardedAgentOptions, HostResolver } from './lib/guarded-agent';
export { probeNetns } from './lib/netns';
