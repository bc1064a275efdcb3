/**
 * A Client ID Metadata Document shipped with the gateway, used when the live document cannot be fetched
 * (docs/auth.md "Client ID Metadata Documents"). `source` says where the facts come from and `retrieved` when;
 * the live document, when reachable, always wins.
 */
export interface PinnedDocument {
  readonly source: string;
  readonly retrieved: string;
  readonly document: Readonly<Record<string, unknown>> & { readonly client_id: string };
}
