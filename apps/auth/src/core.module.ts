import { Global, Module } from '@nestjs/common';
import { ClientStore } from './clients/client.store';
import { AccessPolicy } from './policy/access-policy';
import { topologyProvider, TOPOLOGY } from './config/topology.provider';

/** What every part of auth shares: the resolved catalog, the client store and the access policy. One instance each. */
@Global()
@Module({
  providers: [topologyProvider, ClientStore, AccessPolicy],
  exports: [TOPOLOGY, ClientStore, AccessPolicy],
})
export class CoreModule {}
