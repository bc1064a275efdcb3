import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import { headerOf, type McpExchange, refuse } from '@gateway/mcp-session';
import { counter } from '@gateway/platform';
import type { KeyValueStore } from '@gateway/storage';
import { type Claim, OwnerRegistry } from './owner-registry';
import { PEER_HEADER, PeerForwarder, PeerSigner } from './peer-forward';

const forwards = counter(
  'stdio_peer_forwards_total',
  'requests for a child held by another replica: forwarded, unreachable (owner gone), received, refused',
  ['outcome'],
);

/** Where a request is served: `here`, by its owner (`forwarded`), or nowhere because its owner is gone. */
export type Route = 'here' | 'forwarded' | 'gone';

/**
 * The replicas of one stdio service without sticky routing (STDIO_PEER_URL set; docs/stdio-proxy.md "Replicas"):
 * each session's child, and each user's children in the 2026-07-28 era and with STDIO_CHILD_PER=user, live in
 * the replica that started them; any other replica looks the owner up in Redis (`OwnerRegistry`) and forwards
 * the request to it, signed (`PeerSigner`). A forwarded request is always served where it arrives, never
 * forwarded again.
 */
export class Peering {
  private constructor(
    private readonly registry: OwnerRegistry,
    private readonly signer: PeerSigner,
    private readonly forwarder: PeerForwarder,
    private readonly logger: Logger,
  ) {}

  public static async start(
    options: {
      readonly url: string;
      readonly secret: string;
      readonly service: string;
      readonly claimTtlSeconds: number;
    },
    store: KeyValueStore,
    logger: Logger,
  ): Promise<Peering> {
    const self = { id: randomUUID(), url: options.url };
    const registry = new OwnerRegistry(store, options.service, self, options.claimTtlSeconds, (error) =>
      logger.warn(`owner registry: ${String(error)}`),
    );
    await registry.start();
    const signer = new PeerSigner(options.secret, self.id);
    logger.log(`replica ${self.id.slice(0, 8)} reachable by its peers at ${self.url}`);
    return new Peering(registry, signer, new PeerForwarder(signer, logger), logger);
  }

  /**
   * `direct`: a request from the edge; `peer`: a genuine forward (serve it here, whatever the registry says);
   * `refused`: a forged, stale or misaddressed one, answered 403 (the signature is what lets a peer in).
   */
  public async admit(exchange: McpExchange): Promise<'direct' | 'peer' | 'refused'> {
    const header = headerOf(exchange.request, PEER_HEADER);
    if (header === undefined) return 'direct';
    const problem = this.signer.check(header, exchange);
    forwards.inc({ outcome: problem === undefined ? 'received' : 'refused' });
    if (problem === undefined) return 'peer';
    this.logger.warn(`refused a forward (${problem}) from ${exchange.request.ip}`);
    await refuse(exchange.reply, 403, 'Forbidden: not a valid forward between replicas');
    return 'refused';
  }

  /**
   * Routes a request for `claim` that this replica cannot serve from what it holds. `adopt` (users): with no
   * live owner, this replica takes the claim and serves it (a new child). Without it (sessions), no live owner
   * means the session is gone.
   */
  public async route(exchange: McpExchange, claim: Claim, adopt: boolean): Promise<Route> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const owner = await this.registry.ownerOf(claim);
      if (owner.kind === 'self') {
        this.registry.renew(claim);
        return 'here';
      }
      if (owner.kind === 'peer') {
        const outcome = await this.forwarder.forward(exchange, owner.peer);
        forwards.inc({ outcome });
        if (outcome === 'forwarded') return 'forwarded';
        this.logger.warn(
          `replica ${owner.peer.id.slice(0, 8)} at ${owner.peer.url} is unreachable: its children are gone`,
        );
        await this.registry.forget(claim, owner.peer.id);
      }
      if (!adopt) return 'gone';
      // Another replica may adopt it at the same moment: the one that wrote first owns it, the other forwards.
      if (await this.registry.claim(claim, true)) return 'here';
    }
    await this.registry.claim(claim);
    return 'here';
  }

  public claim(claim: Claim): Promise<boolean> {
    return this.registry.claim(claim);
  }

  public renew(claim: Claim): void {
    this.registry.renew(claim);
  }

  public release(claim: Claim): void {
    void this.registry.release(claim).catch((error: unknown) => this.logger.warn(`owner registry: ${String(error)}`));
  }

  public async close(): Promise<void> {
    await Promise.allSettled([this.registry.stop(), this.forwarder.close()]);
  }
}
