// The committed Kubernetes manifests: valid against the Kubernetes and Traefik CRD schemas (offline, through
// kubernetes-models), and with the properties docs/kubernetes.md promises. Drift: validation.spec.ts.
import { resolveTopology } from '@gateway/catalog';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubernetesManifests, METRICS_PORT, POLICY_CONFIG, POLICY_FILE, SECRET } from './kubernetes';

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
      expect(container.securityContext.readOnlyRootFilesystem).toBe(true); // compose: read_only, tmpfs /tmp
      expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      expect(find('Service', name)?.spec?.['ports'][0].port).toBe(container.ports[0].containerPort);
    }
  });

  it('replicate, autoscale and protect what keeps nothing in its process', () => {
    for (const name of ['auth', 'echo-stateless', 'echo-stateful', 'fetchs']) {
      expect(find('Deployment', name)?.spec?.['replicas']).toBe(2);
      expect(find('HorizontalPodAutoscaler', name)?.spec?.['minReplicas']).toBe(2);
      expect(find('PodDisruptionBudget', name)?.spec?.['minAvailable']).toBe(1);
    }
  });

  it('replicate stdio servers that forward to each other, without autoscaling; once those with a volume', () => {
    for (const name of ['everything', 'sequential-thinking']) {
      expect(find('Deployment', name)?.spec).toMatchObject({ replicas: 2, strategy: { type: 'RollingUpdate' } });
      expect(find('PodDisruptionBudget', name)?.spec?.['minAvailable']).toBe(1);
      expect(find('HorizontalPodAutoscaler', name)).toBeUndefined();
    }
    for (const name of ['memory', 'filesystem']) {
      expect(find('Deployment', name)?.spec).toMatchObject({ replicas: 1, strategy: { type: 'Recreate' } });
      expect(find('HorizontalPodAutoscaler', name)).toBeUndefined();
      expect(find('PodDisruptionBudget', name)).toBeUndefined();
    }
    expect(find('PersistentVolumeClaim', 'memory-data')).toBeDefined();
    expect(find('PersistentVolumeClaim', 'filesystem-workspace')).toBeDefined();
    // Each pod tells its peers where it is: its own address (the secret comes with the Secret).
    const env = find('Deployment', 'everything')?.spec?.['template'].spec.containers[0].env;
    expect(env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
    expect(env).toContainEqual({ name: 'STDIO_PEER_URL', value: 'http://$(POD_IP):3201' });
    const names = env.map((entry: { name: string }) => entry.name);
    expect(names.indexOf('POD_IP')).toBeLessThan(names.indexOf('STDIO_PEER_URL')); // $(VAR) needs it defined first
  });

  it('expose METRICS_PORT on every pod for Prometheus, never through Traefik', () => {
    expect(find('ConfigMap', 'mcp-gateway-config')?.data?.['METRICS_PORT']).toBe(String(METRICS_PORT));
    for (const name of names) {
      const template = find('Deployment', name)?.spec?.['template'];
      expect(template.metadata.annotations).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(METRICS_PORT),
        'prometheus.io/path': '/metrics',
      });
      expect(template.spec.containers[0].ports).toContainEqual({
        name: 'metrics',
        containerPort: METRICS_PORT,
        protocol: 'TCP',
      });
      // The Service (what Traefik routes to) carries the HTTP port only.
      expect(find('Service', name)?.spec?.['ports']).toHaveLength(1);
    }
  });

  it('mount the per-tool policy read-only in every pod, at the MCP_POLICY_FILE they all read', () => {
    expect(find('ConfigMap', 'mcp-gateway-config')?.data?.['MCP_POLICY_FILE']).toBe(POLICY_FILE);
    const policy = find('ConfigMap', POLICY_CONFIG);
    const [key] = Object.keys(policy?.data ?? {});
    for (const name of names) {
      const pod = find('Deployment', name)?.spec?.['template'].spec;
      const container = pod.containers[0];
      // The generated settings reach every container (auth grants and challenges from it; services enforce it).
      expect(container.envFrom[0]).toEqual({ configMapRef: { name: 'mcp-gateway-config' } });
      const mount = container.volumeMounts.find((entry: { name: string }) => entry.name === 'policy');
      expect(mount).toEqual({ name: 'policy', mountPath: expect.any(String), readOnly: true });
      expect(`${mount.mountPath}/${key}`).toBe(POLICY_FILE);
      // Not optional: without it a pod would not start rather than run without the policy its peers enforce.
      expect(pod.volumes).toContainEqual({ name: 'policy', configMap: { name: POLICY_CONFIG } });
      // Nothing else is mounted over it, nor it over a volume.
      const paths = container.volumeMounts.map((entry: { mountPath: string }) => entry.mountPath);
      expect(new Set(paths).size).toBe(paths.length);
    }
    // The shipped file is a valid policy with no overrides: the catalog's defaults, as without MCP_POLICY_FILE.
    const scratch = mkdtempSync(join(tmpdir(), 'policy-'));
    try {
      writeFileSync(join(scratch, 'policy.json'), policy?.data?.[key as string] ?? '');
      const withFile = resolveTopology({ MCP_POLICY_FILE: join(scratch, 'policy.json') });
      expect(withFile.services.map((service) => service.policy)).toEqual(
        resolveTopology({}).services.map((service) => service.policy),
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('leave the audit stream on stdout (no AUDIT_LOG_FILE: the root filesystem is read-only, no volume needed)', () => {
    const text = files.map((file) => readFileSync(file, 'utf8')).join('\n');
    expect(text).not.toMatch(/AUDIT_LOG_FILE:/);
    for (const name of names) {
      const env = find('Deployment', name)?.spec?.['template'].spec.containers[0].env;
      expect(env.map((entry: { name: string }) => entry.name)).not.toContain('AUDIT_LOG_FILE');
    }
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

  it('mirror compose isolation: only Traefik (and Prometheus on the metrics port) in, only what each needs out', () => {
    expect(find('NetworkPolicy', 'default-deny')?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
    const fromNamespace = (name: string) => ({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
    });
    const policy = (name: string) => find('NetworkPolicy', name)?.spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const name of names) {
      const port = find('Service', name)?.spec?.['ports'][0].port;
      expect(policy(name)['ingress'].slice(0, 2)).toEqual([
        { from: [fromNamespace('traefik')], ports: [{ protocol: 'TCP', port }] },
        { from: [fromNamespace('monitoring')], ports: [{ protocol: 'TCP', port: METRICS_PORT }] },
      ]);
    }
    const egressPorts = (name: string) =>
      policy(name)['egress'].flatMap((rule: { ports?: { port: number }[]; to?: { ipBlock?: unknown }[] }) =>
        rule.to?.some((peer) => peer.ipBlock) ? ['internet'] : (rule.ports ?? []).map((entry) => entry.port),
      );
    // echo-stateless: nothing; echo-stateful: Redis; fetchs and auth: Redis and the internet; stdio: Redis and peers.
    expect(egressPorts('echo-stateless')).toEqual([]);
    expect(egressPorts('echo-stateful')).toEqual([53, 53, 6379]);
    expect(egressPorts('fetchs')).toEqual([53, 53, 6379, 'internet']);
    expect(egressPorts('auth')).toEqual([53, 53, 6379, 'internet']);
    expect(egressPorts('sequential-thinking')).toEqual([53, 53, 6379, 3204]);
    expect(egressPorts('everything')).toEqual([53, 53, 6379, 3201, 'internet']); // catalog egress: internet
    // Peers in and out: the replicas of the same service only.
    const own = {
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'everything', 'app.kubernetes.io/part-of': 'mcp-gateway' },
      },
    };
    expect(policy('everything')['ingress']).toContainEqual({ from: [own], ports: [{ protocol: 'TCP', port: 3201 }] });
    expect(policy('echo-stateful')['ingress']).toHaveLength(2);
    // The internet is public addresses only: no pod, node, or metadata address.
    const internet = policy('fetchs')['egress'].at(-1).to[0].ipBlock;
    expect(internet.except).toEqual(expect.arrayContaining(['10.0.0.0/8', '169.254.0.0/16']));
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
