import { spawnSync } from 'node:child_process';

/**
 * `unshare` arguments that give a process a fresh network namespace: as root (or with CAP_SYS_ADMIN) a plain one,
 * otherwise inside a user namespace (`--map-root-user`) where the kernel allows unprivileged ones. The namespace
 * has only a loopback interface, down: the process can reach no address at all, not even the host's loopback.
 */
const NETNS_VARIANTS: readonly (readonly string[])[] = [['--net'], ['--user', '--map-root-user', '--net']];

/**
 * The first unshare variant that works here, with `extra` unshare options appended, or undefined (not Linux, no
 * unshare, no namespaces allowed). `probe` is what must succeed inside (stdio-proxy's `internet` children need `ip`
 * to bring the namespace's loopback up).
 */
export function probeNetns(
  probe: readonly string[] = ['true'],
  extra: readonly string[] = [],
): readonly string[] | undefined {
  return NETNS_VARIANTS.map((variant) => [...variant, ...extra]).find(
    (variant) => spawnSync('unshare', [...variant, '--', ...probe], { stdio: 'ignore', timeout: 5_000 }).status === 0,
  );
}
