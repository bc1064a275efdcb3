/**
 * The catalog → Traefik generator.
 *   node dist/tools/gateway-config/src/main.js            writes the committed files (docker-compose.yml, deploy/traefik/dynamic/*.yml)
 *   node dist/tools/gateway-config/src/main.js --check    exits 1 if they differ from what the catalog gives
 *   node dist/tools/gateway-config/src/main.js --out F    writes the dynamic configuration for this environment (.env + process env) to F
 *   node dist/tools/gateway-config/src/main.js --kubernetes DIR   writes the Kubernetes manifests for this environment to DIR
 *     (ROUTING_MODE=subdomain by default there, BASE_DOMAIN required; KUBERNETES_NAMESPACE, KUBERNETES_TRAEFIK_NAMESPACE,
 *     KUBERNETES_MONITORING_NAMESPACE)
 */
import { loadRawEnv } from '@gateway/config';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { resolveTopology } from '@gateway/catalog';
import { generatedArtifacts, kubernetesArtifacts, localDynamicConfig, toYaml } from './lib/artifacts';

const root = resolve(__dirname, '../../../..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const kubernetesIndex = args.indexOf('--kubernetes');

try {
  if (kubernetesIndex >= 0) {
    const dir = resolve(args[kubernetesIndex + 1] ?? '');
    const env = loadRawEnv();
    const topology = resolveTopology({ ROUTING_MODE: 'subdomain', ...env });
    for (const [path, content] of Object.entries(
      kubernetesArtifacts(topology, 'node dist/tools/gateway-config/src/main.js --kubernetes <dir>', {
        ...(env['KUBERNETES_NAMESPACE'] ? { namespace: env['KUBERNETES_NAMESPACE'] } : {}),
        ...(env['KUBERNETES_TRAEFIK_NAMESPACE'] ? { traefikNamespace: env['KUBERNETES_TRAEFIK_NAMESPACE'] } : {}),
        ...(env['KUBERNETES_MONITORING_NAMESPACE']
          ? { monitoringNamespace: env['KUBERNETES_MONITORING_NAMESPACE'] }
          : {}),
      }),
    )) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    console.log(`gateway-config: wrote the Kubernetes manifests for ${topology.issuer} to ${dir}`);
  } else if (outIndex >= 0) {
    const out = resolve(args[outIndex + 1] ?? '');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, toYaml(localDynamicConfig(loadRawEnv())));
    console.log(`gateway-config: wrote ${out}`);
  } else {
    const stale: string[] = [];
    for (const [path, content] of Object.entries(generatedArtifacts())) {
      const file = join(root, path);
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // missing counts as stale
      }
      if (current === content) continue;
      stale.push(path);
      if (!args.includes('--check')) {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
    if (args.includes('--check') && stale.length) {
      console.error(
        `gateway-config: stale generated files: ${stale.join(', ')} (run npx nx run gateway-config:generate)`,
      );
      process.exit(1);
    }
    console.log(
      stale.length ? `gateway-config: wrote ${stale.join(', ')}` : 'gateway-config: generated files are up to date',
    );
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
