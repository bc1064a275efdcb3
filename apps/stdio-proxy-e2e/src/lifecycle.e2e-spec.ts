import { itKeepsTheServiceLifecycle } from '@gateway/testing';

describe('stdio-proxy lifecycle', () => {
  itKeepsTheServiceLifecycle('stdio-proxy', () => ({ MCP_SERVICE: 'everything' }));
});
