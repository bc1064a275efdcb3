import type { PinnedDocument } from './pinned-document';

/** Goose (CIMD only, no registration fallback): a random loopback port per sign-in (RFC 8252 §7.3). */
export const GOOSE: PinnedDocument = {
  source: 'https://goose-docs.ai/oauth/client-metadata.json (client_id and redirect URI as published)',
  retrieved: '2026-12-01',
  document: {
    client_id: 'https://goose-docs.ai/oauth/client-metadata.json',
    client_name: 'Goose',
    redirect_uris: ['http://127.0.0.1/oauth_callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
};
