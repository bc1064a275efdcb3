/** The destination may not be reached (address policy, deny-list, scheme). */
export class EgressRefused extends Error {
  public override readonly name: string = 'EgressRefused';
}

/** The destination was allowed but could not be reached (DNS, connection, timeout, bad input). */
export class EgressFailed extends Error {
  public override readonly name: string = 'EgressFailed';
}
