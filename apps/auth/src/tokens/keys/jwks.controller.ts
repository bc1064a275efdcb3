import { Controller, Get, Header } from '@nestjs/common';
import type { JWK } from 'jose';
import { SigningKeys } from './signing-keys';

@Controller()
export class JwksController {
  public constructor(private readonly keys: SigningKeys) {}

  /** RFC 7517 §5 JWK Set; replicas re-read the ring every minute, so caches may keep it briefly. */
  @Get('jwks')
  @Header('cache-control', 'public, max-age=60')
  public jwks(): Promise<{ keys: JWK[] }> {
    return this.keys.jwks();
  }
}
