import type { PinnedDocument } from './pinned-document';

/** Claude.ai and Claude Desktop. Its CDN answers data-centre fetches with a 403 challenge, hence the pin. */
export const CLAUDE_AI: PinnedDocument = {
  source:
    'https://claude.ai/oauth/mcp-oauth-client-metadata (client_id, redirect URI and auth method as published; ' +
    'CDN refusal of data-centre fetches: anthropics/claude-ai-mcp#650)',
  retrieved: '2026-12-01',
  document: {
    client_id: 'https://claude.ai/oauth/mcp-oauth-client-metadata',
    client_name: 'Claude',
    client_uri: 'https://claude.ai',
    redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  },
};
