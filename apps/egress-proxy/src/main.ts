// The egress proxy of compose's `egress: internet` stdio services: the only container they can reach; it reaches
// public addresses only (fetchs' address policy, @gateway/egress). docs/security.md, "Egress".
import { ConfigValidationError, loadRawEnv, validateEnv } from '@gateway/config';
import { AddressPolicy, HostResolver, startEgressProxy } from '@gateway/egress';
import { EgressProxyEnv } from './egress-proxy.env';

async function main(): Promise<void> {
  const env = validateEnv(EgressProxyEnv, loadRawEnv(), 'egress-proxy');
  let policy: AddressPolicy;
  try {
    policy = new AddressPolicy({
      allow: env.EGRESS_ALLOW,
      deny: env.EGRESS_DENY,
      names: { allow: 'EGRESS_ALLOW', deny: 'EGRESS_DENY', who: 'the egress proxy' },
    });
  } catch (error) {
    throw new ConfigValidationError([(error as Error).message], 'egress-proxy');
  }
  const log = (line: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ time: Date.now(), context: 'EgressProxy', ...line })}\n`);
  const proxy = await startEgressProxy(
    {
      policy,
      resolver: new HostResolver(env.EGRESS_DNS_SERVERS, env.EGRESS_CONNECT_TIMEOUT_MS),
      connectTimeoutMs: env.EGRESS_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: env.EGRESS_IDLE_TIMEOUT_MS,
      audit: (line) => log({ msg: 'egress', ...line }),
    },
    { host: env.HOST, port: env.PORT },
  );
  log({ msg: `egress proxy listening on ${proxy.url}` });
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
