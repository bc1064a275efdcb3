import { Injectable } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';

/**
 * Revoked access tokens by `jti` (key `revoked:{jti}`, kept until the token would have expired anyway).
 * /verify reads it on every request, never from a cache, so a revocation reaches every replica at once.
 */
@Injectable()
export class RevokedTokens {
  public constructor(private readonly store: KeyValueStore) {}

  public async revoke(jti: string, secondsLeft: number): Promise<void> {
    if (secondsLeft > 0) await this.store.set(`revoked:${jti}`, '1', { ttlSeconds: secondsLeft });
  }

  public async isRevoked(jti: string): Promise<boolean> {
    return (await this.store.get(`revoked:${jti}`)) !== null;
  }
}
