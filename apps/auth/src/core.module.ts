import { Global, Module } from '@nestjs/common';
import { AuditLog } from './audit/audit-log';
import { ClientStore } from './store/client.store';
import { ClientDirectory } from './clients/client-directory';
import { ClientMetadataDocuments, documentFetcherProvider } from './clients/client-metadata-documents';
import { topologyProvider, TOPOLOGY } from './config/topology.provider';
import { AccessPolicy } from './policy/access-policy';
import { AuthorizationCodes } from './store/authorization-codes';
import { RevokedTokens } from './store/revoked-tokens';
import { TokenFamilies } from './store/token-families';

/**
 * The shared rooms both wings use (docs/auth.md "Layout"): the resolved catalog, the client store and directory (registered clients and metadata documents), the access
 * policy, the audit log and the stores of codes, token families and revoked tokens. One instance each.
 * `AuthorizationCodes` is the only hand-off between the authorization wing and the tokens wing.
 */
@Global()
@Module({
  providers: [
    topologyProvider,
    ClientStore,
    documentFetcherProvider,
    ClientMetadataDocuments,
    ClientDirectory,
    AccessPolicy,
    AuditLog,
    RevokedTokens,
    TokenFamilies,
    AuthorizationCodes,
  ],
  exports: [
    TOPOLOGY,
    ClientStore,
    documentFetcherProvider,
    ClientDirectory,
    AccessPolicy,
    AuditLog,
    RevokedTokens,
    TokenFamilies,
    AuthorizationCodes,
  ],
})
export class CoreModule {}
