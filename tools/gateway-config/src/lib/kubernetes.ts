// Catalog → Kubernetes manifests (docs/kubernetes.md). The types are kubernetes-models' own (type-only imports,
// erased at build time): a misspelt field fails the typecheck; the drift test validates the values against the
// same package's JSON schemas.
import type { GatewayTopology, ResolvedService } from '@gateway/catalog';
import type { IMiddleware } from '@kubernetes-models/traefik/traefik.io/v1alpha1/Middleware';
import type { IIngressRoute } from '@kubernetes-models/traefik/traefik.io/v1alpha1/IngressRoute';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IService } from 'kubernetes-models/v1/Service';
import { envKeyOf } from '@gateway/catalog';
import type { INetworkPolicyEgressRule } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyEgressRule';
import type { INetworkPolicyIngressRule } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyIngressRule';
import { imageName } from './compose';
import { usesRedis } from './redis-acl';
import { traefikDynamicConfig, type TraefikMiddleware } from './traefik-config';

export type Manifest =
  | INamespace
  | IConfigMap
  | IDeployment
  | IStatefulSet
  | IService
  | IPersistentVolumeClaim
  | IPodDisruptionBudget
  | IHorizontalPodAutoscaler
  | INetworkPolicy
  | IMiddleware
  | IIngressRoute;

export interface KubernetesOptions {
  readonly namespace?: string;
  /** Namespace Traefik runs in: the only one the NetworkPolicies let reach the services. */
  readonly traefikNamespace?: string;
  /** Namespace Prometheus runs in: the only one the NetworkPolicies let reach METRICS_PORT. */
  readonly monitoringNamespace?: string;
  /** Image of an app: `mcp-oauth-gateway/<app>:latest` as compose builds it; kustomize `images:` rewrites it. */
  readonly imageOf?: (app: string) => string;
}

export const KUBERNETES_DEFAULTS = {
  namespace: 'mcp-gateway',
  traefikNamespace: 'traefik',
  monitoringNamespace: 'monitoring',
} as const;
/** The generated non-secret settings; the operator's own go in the optional ConfigMap and the Secret below. */
const GENERATED_CONFIG = 'mcp-gateway-config';
export const SETTINGS_CONFIG = 'mcp-gateway-settings';
/** The per-tool policy file (docs/authorization.md), mounted read-only in every pod at POLICY_FILE. */
export const POLICY_CONFIG = 'mcp-gateway-policy';
export const POLICY_DIR = '/etc/mcp';
export const POLICY_FILE = `${POLICY_DIR}/policy.json`;
export const SECRET = 'mcp-gateway-secrets';
const PART_OF = 'mcp-gateway';
const AUTH_PORT = 3000;
/** prom-client's `/metrics` (docs/operations.md): every pod, never routed; Prometheus scrapes the pods directly. */
export const METRICS_PORT = 9464;
const REDIS_PORT = 6379;
/** Egress to the internet: every address but the private, shared, link-local and loopback ranges (pods, nodes, metadata). */
const PUBLIC_ADDRESSES = [
  {
    cidr: '0.0.0.0/0',
    except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '127.0.0.0/8'],
  },
  { cidr: '::/0', except: ['fc00::/7', 'fe80::/10', '::1/128'] },
];

/** A workload: auth or one catalog service. */
interface Workload {
  readonly name: string;
  readonly app: string;
  readonly port: number;
  readonly component: 'auth' | 'mcp';
  readonly replicas: number;
  /** Keeps nothing in its process: a HorizontalPodAutoscaler adds replicas on CPU. */
  readonly autoscaled: boolean;
  /** stdio-proxy: its replicas forward to each other (STDIO_PEER_URL, docs/stdio-proxy.md "Replicas"). */
  readonly peers: boolean;
  /** Reaches Redis (its state, or the stdio owner registry). */
  readonly redis: boolean;
  /** Reaches public addresses (auth: the upstream IdP and client metadata documents; fetchs). */
  readonly internet: boolean;
  /** Persistent volumes (`${MCP_DATA_DIR}`, `${MCP_WORKSPACE_DIR}` of a stdio server). */
  readonly claims: readonly { readonly name: string; readonly path: string }[];
  readonly service?: ResolvedService;
}

/** Relative path under `deploy/kubernetes/` → the documents of that file. */
export function kubernetesManifests(
  topology: GatewayTopology,
  options: KubernetesOptions = {},
): Record<string, Manifest[]> {
  const namespace = options.namespace ?? KUBERNETES_DEFAULTS.namespace;
  const traefikNamespace = options.traefikNamespace ?? KUBERNETES_DEFAULTS.traefikNamespace;
  const monitoringNamespace = options.monitoringNamespace ?? KUBERNETES_DEFAULTS.monitoringNamespace;
  const imageOf = options.imageOf ?? ((app: string) => `mcp-oauth-gateway/${app}:latest`);
  const metadata = (name: string, labels: Record<string, string> = {}) => ({
    name,
    namespace,
    labels: { 'app.kubernetes.io/part-of': PART_OF, ...labels },
  });
  const selectorOf = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': PART_OF });
  const dnsOf = (name: string, port: number) => `http://${name}.${namespace}.svc.cluster.local:${port}`;

  const workloads: Workload[] = [
    {
      name: 'auth',
      app: 'auth',
      port: AUTH_PORT,
      component: 'auth',
      replicas: 2,
      autoscaled: true,
      peers: false,
      redis: true,
      internet: true,
      claims: [],
    },
    ...topology.enabled.map((service): Workload => {
      const spec = JSON.stringify(service.stdio ?? {});
      const claims = [
        ...(spec.includes('${MCP_DATA_DIR}') ? [{ name: 'data', path: '/data' }] : []),
        ...(spec.includes('${MCP_WORKSPACE_DIR}') ? [{ name: 'workspace', path: '/workspace' }] : []),
      ];
      const owner = service.sessionState === 'owner';
      const single = service.sessionState === 'process';
      return {
        name: service.name,
        app: service.app,
        port: service.port,
        component: 'mcp',
        // A user's files on a ReadWriteOnce volume are one pod's: such a stdio server runs once (docs/kubernetes.md).
        // A service whose state lives in its process with no forwarding (tmux) runs once too.
        replicas: claims.length > 0 || single ? 1 : 2,
        // Scaling in ends the sessions of the removed pod: stdio servers keep a fixed count.
        autoscaled: !owner && !single,
        peers: owner,
        redis: owner || usesRedis(service),
        internet: service.egress === 'internet',
        claims,
        service,
      };
    }),
  ];

  const files: Record<string, Manifest[]> = {};
  files['namespace.yaml'] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': PART_OF } },
    },
  ];
  files['config.yaml'] = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadata(GENERATED_CONFIG),
      data: {
        NODE_ENV: 'production',
        HOST: '0.0.0.0',
        ROUTING_MODE: topology.mode,
        ...(topology.mode === 'subdomain'
          ? {
              BASE_DOMAIN: new URL(topology.issuer).host.replace(/^auth\./, ''),
              PUBLIC_SCHEME: new URL(topology.issuer).protocol.slice(0, -1),
            }
          : { PUBLIC_URL: topology.issuer }),
        // Pod addresses: Traefik's X-Forwarded-For then names the client (registration rate limits).
        TRUSTED_PROXIES: '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16',
        METRICS_PORT: String(METRICS_PORT),
        // Auth and every service read the same policy (grants and challenges; enforcement and filtered lists).
        MCP_POLICY_FILE: POLICY_FILE,
        // AUDIT_LOG_FILE is left unset: the audit stream goes to stdout ("stream":"audit"), the collector's input.
        ...Object.fromEntries(
          topology.services.map((service) => [`MCP_${envKeyOf(service.name)}_ENABLED`, String(service.enabled)]),
        ),
      },
    },
  ];

  files['policy.yaml'] = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadata(POLICY_CONFIG),
      // No overrides: the catalog's policies. Replace it in your overlay (docs/kubernetes.md "Per-tool policy").
      data: { 'policy.json': '{ "services": {} }\n' },
    },
  ];

  for (const workload of workloads) files[`${workload.name}.yaml`] = workloadManifests(workload);

  // Traefik's CRDs from the same routers and middlewares as compose's labels and the dev edge's file.
  const dynamic = traefikDynamicConfig(topology, {
    authUrl: dnsOf('auth', AUTH_PORT),
    upstreamOf: (service) => [dnsOf(service.name, service.port)],
  }).http;
  const portOf = new Map(workloads.map((workload) => [workload.name, workload.port]));
  files['traefik.yaml'] = [
    ...Object.entries(dynamic.middlewares).map(([name, middleware]): IMiddleware => ({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'Middleware',
      metadata: metadata(name),
      spec: middlewareSpec(middleware),
    })),
    ...Object.entries(dynamic.routers).map(([name, router]): IIngressRoute => ({
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: metadata(name),
      spec: {
        entryPoints: router.entryPoints,
        routes: [
          {
            kind: 'Rule',
            match: router.rule,
            priority: router.priority,
            ...(router.middlewares
              ? { middlewares: router.middlewares.map((reference) => ({ name: reference })) }
              : {}),
            // Traefik balances over the Service's ready endpoints: readiness (/readyz) is the health check.
            services: [{ name: router.service, port: portOf.get(router.service) ?? AUTH_PORT }],
          },
        ],
        ...(router.tls ? { tls: { certResolver: router.tls.certResolver } } : {}),
      },
    })),
  ];

  const inNamespace = (name: string) => ({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
  });
  const tcp = (port: number) => ({ protocol: 'TCP' as const, port });
  files['network-policies.yaml'] = [
    // Like compose's networks: nothing reaches the gateway's pods, and they reach nothing, unless a policy says so.
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    ...workloads.map((workload): INetworkPolicy => {
      const ownPods = { podSelector: { matchLabels: selectorOf(workload.name) } };
      const ingress: INetworkPolicyIngressRule[] = [
        // Compose: the service's own network, shared with Traefik only.
        { from: [inNamespace(traefikNamespace)], ports: [tcp(workload.port)] },
        // Compose: the monitoring profile's Prometheus on the internal networks (docs/operations.md).
        { from: [inNamespace(monitoringNamespace)], ports: [tcp(METRICS_PORT)] },
        ...(workload.peers ? [{ from: [ownPods], ports: [tcp(workload.port)] }] : []),
      ];
      const egress: INetworkPolicyEgressRule[] = [
        ...(workload.redis || workload.internet
          ? [
              {
                // Cluster DNS (Redis' and the IdP's names).
                to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
                ports: [{ protocol: 'UDP' as const, port: 53 }, tcp(53)],
              },
            ]
          : []),
        // Compose: the internal network. Any address on Redis' port: in-cluster (redis/) or a managed Redis.
        ...(workload.redis ? [{ ports: [tcp(REDIS_PORT)] }] : []),
        ...(workload.peers ? [{ to: [ownPods], ports: [tcp(workload.port)] }] : []),
        // Compose: the outbound network.
        ...(workload.internet ? [{ to: PUBLIC_ADDRESSES.map((ipBlock) => ({ ipBlock })) }] : []),
      ];
      return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: metadata(workload.name),
        spec: { podSelector: ownPods.podSelector, policyTypes: ['Ingress', 'Egress'], ingress, egress },
      };
    }),
  ];
  return files;

  function workloadManifests(workload: Workload): Manifest[] {
    const labels = { ...selectorOf(workload.name), 'app.kubernetes.io/component': workload.component };
    const stdio = workload.service?.kind === 'stdio' ? workload.service : undefined;
    const { claims } = workload;
    const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
      httpGet: { path, port: 'http' },
      periodSeconds,
      timeoutSeconds: 2,
      failureThreshold,
    });
    const container: IContainer = {
      name: workload.app,
      image: imageOf(workload.service ? imageName(workload.service) : workload.app),
      ports: [
        { name: 'http', containerPort: workload.port, protocol: 'TCP' },
        { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
      ],
      envFrom: [
        { configMapRef: { name: GENERATED_CONFIG } },
        { configMapRef: { name: SETTINGS_CONFIG, optional: true } },
        // Secrets are referenced, never written here: REDIS_URL, login client secrets (docs/kubernetes.md).
        { secretRef: { name: SECRET } },
      ],
      env: [
        { name: 'PORT', value: String(workload.port) },
        ...(stdio
          ? [
              { name: 'MCP_SERVICE', value: stdio.name },
              { name: 'MCP_DATA_DIR', value: '/data' },
              { name: 'MCP_WORKSPACE_DIR', value: '/workspace' },
              // A child in a network namespace of its own where the node allows one (user namespaces), else the
              // pod's network, which the NetworkPolicy confines (compose: STDIO_NETNS=off, its networks).
              { name: 'STDIO_NETNS', value: 'auto' },
            ]
          : []),
        ...(workload.peers
          ? [
              // The address the other replicas forward to: the pod's own (docs/stdio-proxy.md "Replicas").
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              { name: 'STDIO_PEER_URL', value: `http://$(POD_IP):${workload.port}` },
            ]
          : []),
      ],
      // /healthz touches nothing (no session, no child); /readyz pings storage and takes the pod out of the Service.
      livenessProbe: probe('/healthz', 10, 3),
      readinessProbe: probe('/readyz', 5, 2),
      startupProbe: probe('/healthz', 2, 30),
      // stdio-proxy: its children's budget (STDIO_MEMORY_BUDGET_MB, 1024 by default) plus the proxy itself
      // (docs/stdio-proxy.md "Capacity"); the others fit in 512 Mi.
      resources: stdio
        ? { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1280Mi' } }
        : { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
      // Compose: read_only with a tmpfs on /tmp.
      securityContext: {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
      },
      volumeMounts: [
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'policy', mountPath: POLICY_DIR, readOnly: true },
        ...claims.map((claim) => ({ name: claim.name, mountPath: claim.path })),
      ],
    };
    const documents: Manifest[] = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: metadata(workload.name, labels),
        spec: {
          replicas: workload.replicas,
          // One pod: its ReadWriteOnce volume cannot be mounted by the next one before it stops.
          strategy:
            workload.replicas > 1
              ? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }
              : { type: 'Recreate' },
          selector: { matchLabels: selectorOf(workload.name) },
          template: {
            metadata: {
              labels,
              // The convention Prometheus' kubernetes_sd pod relabelling reads (docs/kubernetes.md "Metrics").
              annotations: {
                'prometheus.io/scrape': 'true',
                'prometheus.io/port': String(METRICS_PORT),
                'prometheus.io/path': '/metrics',
              },
            },
            spec: {
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                fsGroup: 1000,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              // Longer than SHUTDOWN_TIMEOUT: the process drains its requests, then exits.
              terminationGracePeriodSeconds: 30,
              containers: [container],
              volumes: [
                { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
                // Not optional: a pod never starts without the policy its peers enforce (fail closed).
                { name: 'policy', configMap: { name: POLICY_CONFIG } },
                ...claims.map((claim) => ({
                  name: claim.name,
                  persistentVolumeClaim: { claimName: `${workload.name}-${claim.name}` },
                })),
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: metadata(workload.name, labels),
        spec: {
          selector: selectorOf(workload.name),
          ports: [{ name: 'http', port: workload.port, targetPort: 'http', protocol: 'TCP' }],
        },
      },
      ...claims.map((claim): IPersistentVolumeClaim => ({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: metadata(`${workload.name}-${claim.name}`, labels),
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      })),
    ];
    if (workload.replicas > 1)
      documents.push({
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: metadata(workload.name, labels),
        spec: { minAvailable: 1, selector: { matchLabels: selectorOf(workload.name) } },
      });
    if (workload.autoscaled) {
      documents.push({
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: metadata(workload.name, labels),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: workload.name },
          minReplicas: 2,
          maxReplicas: 6,
          metrics: [
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          ],
        },
      });
    }
    return documents;
  }
}

/** Traefik's dynamic-configuration middleware → the CRD's `spec` (same field names in Traefik v3). */
function middlewareSpec(middleware: TraefikMiddleware): IMiddleware['spec'] {
  if (middleware.forwardAuth) return { forwardAuth: { ...middleware.forwardAuth } };
  if (middleware.headers) return { headers: { ...middleware.headers } };
  if (middleware.stripPrefix) return { stripPrefix: { prefixes: [...middleware.stripPrefix.prefixes] } };
  if (middleware.redirectScheme) return { redirectScheme: { ...middleware.redirectScheme } };
  throw new Error(`no Kubernetes translation for middleware ${JSON.stringify(middleware)}`);
}

/**
 * Optional in-cluster Redis (`deploy/kubernetes/redis/`): one StatefulSet with a password from a Secret,
 * AOF on a persistent volume, reachable only from the gateway's pods and with no egress, as compose's
 * internal network. Production setups often use a managed Redis instead: then skip this directory.
 */
export function redisManifests(options: KubernetesOptions = {}): Manifest[] {
  const namespace = options.namespace ?? KUBERNETES_DEFAULTS.namespace;
  const labels = { 'app.kubernetes.io/name': 'redis', 'app.kubernetes.io/part-of': PART_OF };
  const metadata = (name: string) => ({ name, namespace, labels });
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata('redis'),
      spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'redis', port: 6379, targetPort: 'redis' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: metadata('redis'),
      spec: {
        serviceName: 'redis',
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 999,
              fsGroup: 999,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'redis',
                image: 'redis:7.4-alpine',
                // The password comes from the Secret by variable: `$(VAR)` is expanded by the kubelet.
                args: ['--requirepass', '$(REDIS_PASSWORD)', '--appendonly', 'yes', '--appendfsync', 'everysec'],
                env: [
                  {
                    name: 'REDIS_PASSWORD',
                    valueFrom: { secretKeyRef: { name: 'mcp-gateway-redis', key: 'password' } },
                  },
                  {
                    name: 'REDISCLI_AUTH',
                    valueFrom: { secretKeyRef: { name: 'mcp-gateway-redis', key: 'password' } },
                  },
                ],
                ports: [{ name: 'redis', containerPort: 6379, protocol: 'TCP' }],
                readinessProbe: { exec: { command: ['redis-cli', 'ping'] }, periodSeconds: 10, timeoutSeconds: 3 },
                livenessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 20, timeoutSeconds: 3 },
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata('redis'),
      spec: {
        podSelector: { matchLabels: labels },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/part-of': PART_OF } } }],
            ports: [{ protocol: 'TCP', port: 6379 }],
          },
        ],
        egress: [],
      },
    },
  ];
}
