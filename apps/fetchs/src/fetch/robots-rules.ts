import { LRUCache } from 'lru-cache';
import robotsParser from 'robots-parser';
import { FetchRefused } from './fetch-errors';

/** What a robots.txt fetch produced: its status and text, or an error (unreachable). */
export type RobotsSource = (robotsUrl: URL) => Promise<{ status: number; text: string }>;

type Verdict =
  | { readonly kind: 'rules'; readonly isAllowed: (url: string) => boolean }
  | { readonly kind: 'all' }
  | { readonly kind: 'none'; readonly reason: string };

const RULES_TTL_MS = 60 * 60 * 1000;
/** An unreachable robots.txt is retried sooner than a good one is refreshed. */
const UNREACHABLE_TTL_MS = 60 * 1000;

/**
 * robots.txt (RFC 9309) for the configured user agent, one fetch per origin, cached in a bounded
 * LRU (concurrent checks of one origin share one fetch). robots-parser implements the matching
 * (longest match, Allow over Disallow on ties, `*` and `$`).
 */
export class RobotsRules {
  private readonly cache: LRUCache<string, Verdict>;

  public constructor(
    source: RobotsSource,
    private readonly userAgent: string,
    maxOrigins = 1000,
  ) {
    this.cache = new LRUCache<string, Verdict>({
      max: maxOrigins,
      ttl: RULES_TTL_MS,
      fetchMethod: async (origin, _stale, { options }) => {
        try {
          const robotsUrl = new URL('/robots.txt', origin);
          const { status, text } = await source(robotsUrl);
          if (status >= 200 && status < 300) {
            const robot = robotsParser(robotsUrl.href, text);
            return { kind: 'rules', isAllowed: (url) => robot.isAllowed(url, this.userAgent) !== false };
          }
          // RFC 9309 §2.3.1.3: 4xx "unavailable" → crawl freely; §2.3.1.4: 5xx "unreachable" → assume full disallow.
          if (status >= 400 && status < 500) return { kind: 'all' };
          options.ttl = UNREACHABLE_TTL_MS;
          return { kind: 'none', reason: `HTTP ${status}` };
        } catch (error) {
          // The SSRF guard's answer is the caller's answer, not a robots.txt verdict.
          if (error instanceof FetchRefused) throw error;
          // unreachable (timed out, connection or TLS failed): RFC 9309 §2.3.1.4, assume full disallow
          options.ttl = UNREACHABLE_TTL_MS;
          return { kind: 'none', reason: (error as Error).message };
        }
      },
    });
  }

  /** Throws FetchRefused when robots.txt of the URL's origin disallows it for our user agent. */
  public async check(url: URL): Promise<void> {
    const verdict = await this.cache.fetch(url.origin);
    const allowed = verdict?.kind === 'all' || (verdict?.kind === 'rules' && verdict.isAllowed(url.href));
    if (!allowed) {
      throw new FetchRefused(
        verdict?.kind === 'none'
          ? `refused by robots.txt: ${url.origin}/robots.txt could not be fetched (${verdict.reason}), which RFC 9309 treats as "disallow all"`
          : `refused by robots.txt: ${url.origin}/robots.txt disallows ${url.pathname} for "${this.userAgent}"`,
      );
    }
  }
}
