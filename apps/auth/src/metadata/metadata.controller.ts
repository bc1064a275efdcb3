import { Controller, Get, Header, Inject, Param, Req } from '@nestjs/common';
import type { GatewayTopology } from '@gateway/catalog';
import { OAuthError } from '@gateway/oauth';
import type { FastifyRequest } from 'fastify';
import { TOPOLOGY } from '../config/topology.provider';
import { AS_METADATA_PATH, PRM_PATH } from '../http/endpoints';
import { AuthEnv } from '../config/auth.env';
import {
  authorizationServerMetadata,
  type MetadataFeatures,
  protectedResourceMetadata,
  serviceForMetadata,
} from './metadata.documents';
import { SERVICE_ISSUER_SEGMENT, serviceIssuer, serviceOfIssuerName } from './service-issuer';

const CACHE = 'public, max-age=300';

/** Discovery documents, public and cacheable. CORS comes from the app-wide policy (http/cors.ts). */
@Controller()
export class MetadataController {
  private readonly asMetadata: Record<string, unknown>;
  private readonly features: MetadataFeatures;

  public constructor(
    @Inject(TOPOLOGY) private readonly topology: GatewayTopology,
    env: AuthEnv,
  ) {
    this.features = { clientIdMetadataDocuments: env.CLIENT_METADATA_DOCUMENTS };
    this.asMetadata = authorizationServerMetadata(topology.issuer, topology.issuer, this.features);
  }

  /**
   * RFC 8414 §3 at the issuer. The same document answers on every host the edge sends here: in subdomain
   * mode that includes each MCP origin, for older clients that look for it there (DESIGN.md).
   */
  @Get(AS_METADATA_PATH)
  @Header('cache-control', CACHE)
  public authorizationServer(): Record<string, unknown> {
    return this.asMetadata;
  }

  /** RFC 8414 §3.1: a service's own authorization server, its issuer path inserted after the well-known suffix. */
  @Get(`${AS_METADATA_PATH}${SERVICE_ISSUER_SEGMENT}/:service`)
  @Header('cache-control', CACHE)
  public serviceAuthorizationServer(@Param('service') name: string): Record<string, unknown> {
    const service = serviceOfIssuerName(this.topology, name);
    if (!service)
      throw new OAuthError('invalid_request', `no authorization server is described for ${JSON.stringify(name)}`, {
        status: 404,
      });
    return authorizationServerMetadata(serviceIssuer(this.topology, service), this.topology.issuer, this.features);
  }

  /** RFC 9728 §3.1: root and path-inserted URLs on the service's origin. */
  @Get([PRM_PATH, `${PRM_PATH}/*`])
  @Header('cache-control', CACHE)
  public protectedResource(@Req() request: FastifyRequest): Record<string, unknown> {
    const path = request.url.split('?')[0] ?? '';
    const suffix = path.slice(PRM_PATH.length);
    const service = serviceForMetadata(this.topology, request.headers.host ?? '', suffix);
    if (!service)
      throw new OAuthError('invalid_request', `no protected resource is described at ${path}`, { status: 404 });
    return protectedResourceMetadata(service, this.topology);
  }
}
