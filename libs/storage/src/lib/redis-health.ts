import type { EventEmitter } from 'node:events';

interface HealthLogger {
  error(message: string): void;
  warn(message: string): void;
}

/**
 * Logs a Redis outage once when it starts and once when the connection is back, instead of ioredis's error
 * event on every reconnect attempt (every 2 s per process with REDIS_CLIENT_OPTIONS' retry strategy). The recovery
 * is a warning too, so that whoever sees the outage at LOG_LEVEL=warn also sees its end.
 */
export function logRedisOutages(client: EventEmitter, logger: HealthLogger, now: () => number = Date.now): void {
  let downSince: number | undefined;
  let attempts = 0;
  client.on('error', (error: Error) => {
    attempts++;
    if (downSince !== undefined) return;
    downSince = now();
    logger.error(`Redis unavailable: ${error.message}; reconnecting (logged again when it is back)`);
  });
  client.on('ready', () => {
    if (downSince === undefined) return;
    const seconds = ((now() - downSince) / 1000).toFixed(1);
    logger.warn(`Redis available again after ${seconds} s (${attempts} failed attempts)`);
    downSince = undefined;
    attempts = 0;
  });
}
