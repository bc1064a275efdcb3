import type { ModuleRef } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { HealthController, type Pingable } from './health.controller';

/** A reply that records what readiness sent. */
function recordingReply(): FastifyReply & { sent?: { status: number; body: unknown } } {
  const state: { status: number; body?: unknown } = { status: 0 };
  const reply = {
    status(code: number) {
      state.status = code;
      return reply;
    },
    header() {
      return reply;
    },
    async send(body: unknown) {
      (reply as { sent?: unknown }).sent = { status: state.status, body };
      return reply;
    },
  };
  return reply as unknown as FastifyReply & { sent?: { status: number; body: unknown } };
}

function controllerWith(targets: Record<string, Pingable>): HealthController {
  const moduleRef = { get: (token: string) => targets[token] } as unknown as ModuleRef;
  return new HealthController(moduleRef, Object.fromEntries(Object.keys(targets).map((name) => [name, name])));
}

describe('HealthController', () => {
  it('is live without asking any dependency', () => {
    const failing: Pingable = { ping: () => Promise.reject(new Error('down')) };
    expect(controllerWith({ storage: failing }).liveness()).toEqual({ status: 'ok' });
  });

  it('is ready when every check answers', async () => {
    const reply = recordingReply();
    await controllerWith({ storage: { ping: async () => undefined } }).readiness(reply);
    expect(reply.sent).toEqual({ status: 200, body: { status: 'ok', checks: { storage: 'ok' } } });
  });

  it('is unavailable (503) naming the failing check', async () => {
    const reply = recordingReply();
    await controllerWith({
      storage: { ping: () => Promise.reject(new Error('ECONNREFUSED')) },
      children: { ping: async () => undefined },
    }).readiness(reply);
    expect(reply.sent).toEqual({
      status: 503,
      body: { status: 'unavailable', checks: { storage: 'unavailable', children: 'ok' } },
    });
  });

  it('treats a check that hangs as unavailable', async () => {
    jest.useFakeTimers();
    const reply = recordingReply();
    const pending = controllerWith({ storage: { ping: () => new Promise<void>(() => undefined) } }).readiness(reply);
    await jest.advanceTimersByTimeAsync(2_100);
    await pending;
    jest.useRealTimers();
    expect(reply.sent?.status).toBe(503);
  });
});
