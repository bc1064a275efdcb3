/**
 * fetchs' names for the egress errors: FetchRefused = the destination is not one fetchs may reach (SSRF guard,
 * scheme, deny-list, robots.txt, rate limit); FetchFailed = allowed, but it did not work (DNS, connection, timeout,
 * redirects, bad input). One class each with `@gateway/egress`, so the guarded agent's refusals are FetchRefused.
 */
export { EgressFailed as FetchFailed, EgressRefused as FetchRefused } from '@gateway/egress';
