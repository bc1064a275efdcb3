/** The destination is not one fetchs may reach (SSRF guard, scheme, deny-list, robots.txt, rate limit). */
export class FetchRefused extends Error {
  public override readonly name = 'FetchRefused';
}

/** The fetch was allowed but did not work (DNS, connection, timeout, redirects, bad input). */
export class FetchFailed extends Error {
  public override readonly name = 'FetchFailed';
}
