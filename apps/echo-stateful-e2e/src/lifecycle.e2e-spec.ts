import { itKeepsTheServiceLifecycle, startService } from '@gateway/testing';

describe('echo-stateful lifecycle', () => {
  itKeepsTheServiceLifecycle('echo-stateful', () => ({ REDIS_URL: process.env['REDIS_URL'] ?? '' }));

  it('is not ready while Redis is unreachable', async () => {
    const service = await startService('echo-stateful', {
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      readyPath: '/healthz',
    });
    try {
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable', checks: { storage: 'unavailable' } });
    } finally {
      await service.stop();
    }
  });
});
