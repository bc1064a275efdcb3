import { runUntilExit, startService } from './service-process';

/**
 * The foundation contract every app keeps: liveness and readiness answer, SIGTERM ends the process
 * cleanly, and a bad configuration stops the boot naming the key. Call inside a `describe`.
 */
export function itKeepsTheServiceLifecycle(app: string, env: () => Record<string, string> = () => ({})): void {
  it('answers /healthz and /readyz, logs JSON and exits 0 on SIGTERM', async () => {
    const service = await startService(app, { env: env() });
    try {
      const live = await fetch(`${service.url}/healthz`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok' });
      const firstLine = service
        .output()
        .split('\n')
        .find((line) => line.trim());
      expect(() => JSON.parse(firstLine ?? '')).not.toThrow();
      if (app !== 'auth') {
        // An MCP service writes exactly one access line per `/mcp` request (its own, not pino-http's), headerless.
        for (const path of ['/mcp', '/mcp/']) {
          const refused = await fetch(`${service.url}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'text/plain', authorization: 'Bearer lifecycle-secret' },
            body: 'x',
          });
          expect(refused.status).toBe(415);
        }
        await new Promise((resolve) => setTimeout(resolve, 100)); // written when each response closes
        const access = service
          .output()
          .split('\n')
          .filter((line) => line.includes('"request completed"'));
        expect(access.map((line) => JSON.parse(line) as { url?: string; statusCode?: number })).toEqual([
          expect.objectContaining({ url: '/mcp', statusCode: 415 }),
          expect.objectContaining({ url: '/mcp/', statusCode: 415 }),
        ]);
        expect(service.output()).not.toContain('lifecycle-secret');
      }
    } finally {
      expect(await service.stop()).toBe(0);
    }
  });

  it('refuses to boot with PORT=abc, naming the key and nothing secret', async () => {
    const { code, output } = await runUntilExit(app, { ...env(), PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(code).toBe(1);
    expect(output).toContain('PORT="abc": must be an integer');
    expect(output).toContain('LOG_LEVEL="loud"');
    expect(output).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
}
