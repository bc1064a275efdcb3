// The committed Kubernetes manifests: valid against the Kubernetes and Traefik CRD schemas (offline, through
// kubernetes-models), and with the properties docs/kubernetes.md promises. Drift: validation.spec.ts.
import { resolveTopology } from '@gateway/catalog';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubernetesManifests, SECRET } from './kubernetes';

const root = resolve(__dirname, '../../../..');
const dir = join(root, 'deploy/kubernetes');

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
}

function yamlFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? yamlFiles(join(folder, entry.name))
      : entry.name.endsWith('.yaml')
        ? [join(folder, entry.name)]
        : [],
  );
}
const files = yamlFiles(dir).filter((file) => !file.endsWith('kustomization.yaml'));
const documents = files.flatMap((file) =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((document) => ({
    where: relative(root, file),
    document: document.toJS() as Doc,
  })),
);
const all = documents.map(({ document }) => document);
const find = (kind: string, name: string) => all.find((doc) => doc.kind === kind && doc.metadata.name === name);

/** kubernetes-models is ESM-only: validation runs in a plain Node process (validate-kubernetes.mjs). */
function validate(inputs: readonly { where: string; document: unknown }[]): { where: string; errors: string[] }[] {
  const run = spawnSync(process.execPath, [join(__dirname, 'validate-kubernetes.mjs')], {
    cwd: root,
    input: JSON.stringify(inputs),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`validate-kubernetes.mjs failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

describe('deploy/kubernetes against the Kubernetes and Traefik CRD schemas', () => {
  it('every document is valid', () => {
    expect(documents.length).toBeGreaterThan(40);
    expect(validate(documents)).toEqual([]);
  });

  it('rejects broken documents (the schemas really check)', () => {
    const deployment = structuredClone(find('Deployment', 'auth')) as Required<Doc>;
    deployment.spec['replicas'] = 'two';
    const middleware = structuredClone(find('Middleware', 'mcp-auth')) as Required<Doc>;
    middleware.spec['forwardAuth'].authResponseHeaders = 'X-User-Id';
    const unknown = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
    const failures = validate([
      { where: 'deployment', document: deployment },
      { where: 'middleware', document: middleware },
      { where: 'unknown', document: unknown },
    ]);
    expect(failures.map((failure) => failure.where)).toEqual(['deployment', 'middleware', 'unknown']);
    expect(failures[0]?.errors.join()).toMatch(/replicas must be integer/);
  });

  it('the kustomization lists every file of its folder', () => {
    for (const folder of [dir, join(dir, 'redis')]) {
      const listed = (
        parseAllDocuments(readFileSync(join(folder, 'kustomization.yaml'), 'utf8'))[0]?.toJS() as {
          resources: string[];
        }
      ).resources;
      const present = readdirSync(folder).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml');
      expect([...listed].sort()).toEqual([...present].sort());
      for (const file of listed) expect(existsSync(join(folder, file))).toBe(true);
    }
  });
});

describe('the manifests', () => {
  const names = ['auth', ...resolveTopology({}).enabled.map((service) => service.name)];

  it('run every workload with probes on /healthz and /readyz, as a non-root user', () => {
    for (const name of names) {
      const pod = find('Deployment', name)?.spec?.['template'].spec;
      const container = pod.containers[0];
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(find('Service', name)?.spec?.['ports'][0].port).toBe(container.ports[0].containerPort);
    }
  });

  it('replicate, autoscale and protect what keeps no session in its process; stdio servers run once', () => {
    for (const name of ['auth', 'echo-stateless', 'echo-stateful', 'fetchs']) {
      expect(find('Deployment', name)?.spec?.['replicas']).toBe(2);
      expect(find('HorizontalPodAutoscaler', name)?.spec?.['minReplicas']).toBe(2);
      expect(find('PodDisruptionBudget', name)?.spec?.['minAvailable']).toBe(1);
    }
    for (const name of ['everything', 'memory', 'filesystem', 'sequential-thinking']) {
      expect(find('Deployment', name)?.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
      expect(find('HorizontalPodAutoscaler', name)).toBeUndefined();
      expect(find('PodDisruptionBudget', name)).toBeUndefined();
    }
    expect(find('PersistentVolumeClaim', 'memory-data')).toBeDefined();
    expect(find('PersistentVolumeClaim', 'filesystem-workspace')).toBeDefined();
  });

  it('reference the Secret and never inline a secret value', () => {
    expect(all.filter((doc) => doc.kind === 'Secret')).toEqual([]);
    const text = files.map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(text).not.toMatch(/REDIS_URL|CLIENT_SECRET|redis:\/\/|password:/i);
    const envFrom = find('Deployment', 'auth')?.spec?.['template'].spec.containers[0].envFrom;
    expect(envFrom).toContainEqual({ secretRef: { name: SECRET } });
    expect(find('StatefulSet', 'redis')?.spec?.['template'].spec.containers[0].env[0].valueFrom).toEqual({
      secretKeyRef: { name: 'mcp-gateway-redis', key: 'password' },
    });
  });

  it('route through Traefik CRDs like compose: ForwardAuth on every MCP host, /verify never public', () => {
    const route = (name: string) => find('IngressRoute', name)?.spec?.['routes'][0];
    expect(route('mcp-fetchs')).toMatchObject({
      match: 'Host(`fetchs.example.com`)',
      middlewares: [{ name: 'mcp-cors' }, { name: 'strip-identity-headers' }, { name: 'mcp-auth' }],
      services: [{ name: 'fetchs', port: 3103 }],
    });
    expect(route('auth')?.match).toContain('!Path(`/verify`)');
    expect(find('Middleware', 'mcp-auth')?.spec?.['forwardAuth'].address).toBe(
      'http://auth.mcp-gateway.svc.cluster.local:3000/verify',
    );
    expect(find('IngressRoute', 'mcp-fetchs')?.spec?.['tls']).toEqual({ certResolver: 'letsencrypt' });
  });

  it('let only Traefik in, and keep Redis without egress (compose: the internal network)', () => {
    expect(find('NetworkPolicy', 'default-deny-ingress')?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    for (const name of names) {
      expect(find('NetworkPolicy', `${name}-from-traefik`)?.spec?.['ingress']).toEqual([
        {
          from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'traefik' } } }],
          ports: [{ protocol: 'TCP', port: find('Service', name)?.spec?.['ports'][0].port }],
        },
      ]);
    }
    expect(find('NetworkPolicy', 'redis')?.spec).toMatchObject({ policyTypes: ['Ingress', 'Egress'], egress: [] });
  });

  it('follow the catalog: a disabled service has no workload and auth is told', () => {
    const manifests = kubernetesManifests(
      resolveTopology({ ROUTING_MODE: 'subdomain', BASE_DOMAIN: 'example.org', MCP_MEMORY_ENABLED: 'false' }),
    );
    expect(manifests['memory.yaml']).toBeUndefined();
    const config = manifests['config.yaml']?.[0] as Doc;
    expect(config.data).toMatchObject({
      MCP_MEMORY_ENABLED: 'false',
      BASE_DOMAIN: 'example.org',
      ROUTING_MODE: 'subdomain',
    });
  });
});
