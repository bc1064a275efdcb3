// The egress proxy of compose's `egress: internet` stdio services: the only container they can reach; it reaches
// public addresses only (fetchs' address policy, @gateway/egress). docs/security.md, "Egress".
import { loadRawEnv, validateEnv } from '@gateway/config';
import { HostResolver, startEgressProxy } from '@gateway/egress';
import { EgressProxyEnv, policyOf } from './egress-proxy.env';

async function main(): Promise<void> {
  const env = validateEnv(EgressProxyEnv, loadRawEnv(), 'egress-proxy');
  const policy = policyOf(env);
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
