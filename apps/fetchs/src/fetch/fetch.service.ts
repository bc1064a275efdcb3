import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { KeyValueStore } from '@gateway/storage';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Agent } from 'undici';
import { AddressPolicy, createGuardedAgent, HostResolver } from '@gateway/egress';
import { FetchFailed, FetchRefused } from './fetch-errors';
import { type HtmlConverter, workerHtmlConverter } from './html-converter';
import { type FetchLimits, type FetchMethod, type FetchedResponse, fetchBounded, type HopCheck } from './http-fetcher';
import { errorResult, renderContent } from './render-content';
import { RobotsRules } from './robots-rules';
import { FetchsEnv } from '../fetchs.env';

/** The `fetch` tool's arguments (wire names). */
export interface FetchToolInput {
  readonly url: string;
  readonly method?: FetchMethod;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly max_length?: number;
  readonly start_index?: number;
  readonly raw?: boolean;
}

export const DEFAULT_MAX_LENGTH = 5000;
/** RFC 9309 §2.5: crawlers must parse at least 500 KiB of robots.txt. */
const ROBOTS_MAX_BYTES = 500 * 1024;

/**
 * The fetch tool's work: per-user rate limit, robots.txt, the guarded HTTP exchange, rendering, and one
 * audit line per call (user, host, status, bytes).
 */
@Injectable()
export class FetchService implements OnModuleDestroy {
  private readonly logger = new Logger('FetchAudit');
  private readonly agent: Agent;
  private readonly limits: FetchLimits;
  private readonly toMarkdown: HtmlConverter;
  /** robots.txt, checked before every hop (FETCH_ROBOTS). */
  private readonly onHop?: HopCheck;

  public constructor(
    private readonly env: FetchsEnv,
    private readonly store: KeyValueStore,
  ) {
    this.agent = createGuardedAgent({
      policy: new AddressPolicy({ allow: env.FETCH_ALLOW, deny: env.FETCH_DENY }),
      resolver: new HostResolver(env.FETCH_DNS_SERVERS, env.FETCH_CONNECT_TIMEOUT_MS),
      connectTimeoutMs: env.FETCH_CONNECT_TIMEOUT_MS,
    });
    this.limits = {
      maxBytes: env.FETCH_MAX_BYTES,
      maxRedirects: env.FETCH_MAX_REDIRECTS,
      timeoutMs: env.FETCH_TIMEOUT_MS,
      userAgent: env.FETCH_USER_AGENT,
    };
    this.toMarkdown = workerHtmlConverter(env.FETCH_CONVERT_TIMEOUT_MS);
    if (env.FETCH_ROBOTS) {
      const robots = new RobotsRules(async (robotsUrl) => {
        const response = await fetchBounded(
          this.agent,
          { url: robotsUrl.href },
          { ...this.limits, maxBytes: ROBOTS_MAX_BYTES },
        );
        return { status: response.status, text: response.body.toString('utf8') };
      }, env.FETCH_USER_AGENT);
      this.onHop = (url) => robots.check(url);
    }
  }

  public async fetch(input: FetchToolInput, userId: string): Promise<CallToolResult> {
    const method = input.method ?? 'GET';
    const host = URL.canParse(input.url) ? new URL(input.url).host : '-';
    let response: FetchedResponse | undefined;
    let outcome = 'error';
    try {
      await this.checkRateLimit(userId);
      const request = { url: input.url, method, headers: input.headers, body: input.body };
      response = await fetchBounded(this.agent, request, this.limits, this.onHop);
      return await renderContent(response, method, {
        maxLength: input.max_length ?? DEFAULT_MAX_LENGTH,
        startIndex: input.start_index ?? 0,
        raw: input.raw ?? false,
        maxBytes: this.limits.maxBytes,
        toMarkdown: this.toMarkdown,
      });
    } catch (error) {
      if (!(error instanceof FetchRefused || error instanceof FetchFailed)) throw error;
      outcome = error instanceof FetchRefused ? 'refused' : 'failed';
      return errorResult(error.message);
    } finally {
      this.logger.log({
        msg: 'fetch',
        user: userId,
        method,
        host,
        status: response?.status ?? outcome,
        bytes: response?.body.length ?? 0,
        ...(response?.truncated ? { truncated: true } : {}),
      });
    }
  }

  public async onModuleDestroy(): Promise<void> {
    await this.agent.destroy();
  }

  /** A fixed one-minute window per user, counted in the shared store (all replicas share it). */
  private async checkRateLimit(userId: string): Promise<void> {
    if (this.env.FETCH_RATE_LIMIT === 0) return;
    const key = `fetchs:rate:${userId}`;
    if ((await this.store.increment(key, 60)) > this.env.FETCH_RATE_LIMIT) {
      const retry = Math.max(1, await this.store.ttl(key));
      throw new FetchRefused(
        `rate limit: at most ${this.env.FETCH_RATE_LIMIT} fetches per minute per user (FETCH_RATE_LIMIT); retry in ${retry} s`,
      );
    }
  }
}
