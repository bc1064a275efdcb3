import { MemoryStore } from '@gateway/storage';
import { OAuthError } from '@gateway/oauth';
import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  const rule = { bucket: 'test', limit: 2, windowSeconds: 60 };

  it('allows the limit, then answers 429 with Retry-After within the window', async () => {
    const limiter = new RateLimiter(new MemoryStore());
    await limiter.consume(rule, 'ip');
    await limiter.consume(rule, 'ip');
    const error = await limiter.consume(rule, 'ip').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 429, code: 'temporarily_unavailable', headers: { 'retry-after': '60' } });
    await expect(limiter.consume(rule, 'other-ip')).resolves.toBeUndefined();
  });

  it('starts a new window when the old one ends', async () => {
    let now = 0;
    const limiter = new RateLimiter(new MemoryStore('', () => now));
    for (let i = 0; i < 2; i++) await limiter.consume(rule, 'ip');
    await expect(limiter.assertAvailable(rule, 'ip')).rejects.toMatchObject({ status: 429 });
    now += 61_000;
    await expect(limiter.assertAvailable(rule, 'ip')).resolves.toBeUndefined();
  });

  it('never limits when the limit is 0', async () => {
    const limiter = new RateLimiter(new MemoryStore());
    for (let i = 0; i < 5; i++) await limiter.consume({ ...rule, limit: 0 }, 'ip');
  });
});
