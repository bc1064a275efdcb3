// docs/security.md: what the production compose file gives each container (networks, environment, privileges).
import { parse } from 'yaml';
import { generatedArtifacts } from './artifacts';

type Service = {
  networks?: string[];
  environment?: Record<string, string | null>;
  env_file?: string[];
  cap_drop?: string[];
  security_opt?: string[];
  read_only?: boolean;
  volumes?: string[];
  labels?: Record<string, string>;
};
type Compose = { services: Record<string, Service>; networks: Record<string, { internal?: boolean; name?: string }> };

describe('docker-compose.yml security properties', () => {
  const artifacts = generatedArtifacts();
  const compose = parse(artifacts['docker-compose.yml'] ?? '') as Compose;
  const services = compose.services;
  const overlay = parse(artifacts['deploy/compose/everything.yml'] ?? '{}') as Compose;

  it('leaves everything (a protocol test server) out unless its overlay is named', () => {
    expect(services['everything']).toBeUndefined();
    expect(services['auth']?.environment?.['MCP_EVERYTHING_ENABLED']).toBe('false');
    expect(overlay.services['everything']).toBeDefined();
    expect(overlay.services['auth']?.environment?.['MCP_EVERYTHING_ENABLED']).toBe('true');
  });

  it.each(['fetch', 'playwright'])('leaves %s (off by default) out unless its overlay is named', (name) => {
    const key = `MCP_${name.toUpperCase()}_ENABLED`;
    const own = parse(artifacts[`deploy/compose/${name}.yml`] ?? '{}') as Compose;
    expect(services[name]).toBeUndefined();
    expect(services['auth']?.environment?.[key]).toBe('false');
    expect(own.services['auth']?.environment?.[key]).toBe('true');
    // An internet stdio server: the egress proxy is its only way out.
    expect(own.services[name]?.networks).toEqual([`mcp-${name}`, 'egress']);
    expect(own.services['egress-proxy']?.networks).toEqual(['egress', 'outbound']);
  });

  it('leaves tmux (a remote shell) out unless its overlay is named; its shells share a network with Traefik only', () => {
    const own = parse(artifacts['deploy/compose/tmux.yml'] ?? '{}') as Compose;
    expect(services['tmux']).toBeUndefined();
    expect(services['auth']?.environment?.['MCP_TMUX_ENABLED']).toBe('false');
    expect(own.services['auth']?.environment?.['MCP_TMUX_ENABLED']).toBe('true');
    expect(own.services['tmux']?.networks).toEqual(['mcp-tmux']);
    expect(own.services['tmux']?.environment).toMatchObject({ MCP_DATA_DIR: '/data', TMUX_NETNS: 'off' });
    expect(own.services['tmux']?.env_file).toBeUndefined();
  });

  it("builds playwright's own image with Debian's Chromium (never a downloaded browser)", () => {
    const playwright = (
      parse(artifacts['deploy/compose/playwright.yml'] ?? '{}') as { services: Record<string, unknown> }
    ).services['playwright'];
    expect(playwright).toMatchObject({
      build: { args: { APP: 'stdio-proxy', PACKAGES: 'chromium' } },
      image: 'mcp-oauth-gateway/stdio-proxy-playwright:latest',
    });
  });

  it("puts an egress-none service on an internal network it shares with Traefik (and the monitoring profile's Prometheus) only", () => {
    for (const name of ['memory', 'filesystem', 'sequential-thinking', 'echo-stateless']) {
      const networks = services[name]?.networks ?? [];
      expect(networks).toEqual([`mcp-${name}`]);
      expect(compose.networks[`mcp-${name}`]?.internal).toBe(true);
      const members = Object.entries(services).filter(([, other]) => other.networks?.includes(`mcp-${name}`));
      // Prometheus (profile `monitoring`, off unless asked for) joins to scrape the metrics port; it holds no secret.
      expect(members.map(([member]) => member).sort()).toEqual([name, 'prometheus', 'traefik'].sort());
      expect(services[name]?.labels?.['traefik.docker.network']).toBe(compose.networks[`mcp-${name}`]?.name);
    }
  });

  it('lets an internet stdio service reach the egress proxy only', () => {
    const everything = overlay.services['everything'];
    expect(everything?.networks).toEqual(['mcp-everything', 'egress']);
    expect(everything?.environment?.['EGRESS_PROXY_URL']).toBe('http://egress-proxy:3128');
    expect({ ...compose.networks, ...overlay.networks }['egress']?.internal).toBe(true);
    expect(overlay.services['egress-proxy']?.networks).toEqual(['egress', 'outbound']);
  });

  it('gives MCP containers only the keys they need: no .env, no login secrets, no JWT key, Redis only where used', () => {
    const all = { ...services, ...overlay.services };
    for (const name of [
      'echo-stateless',
      'echo-stateful',
      'fetchs',
      'memory',
      'filesystem',
      'sequential-thinking',
      'everything',
    ]) {
      const service = all[name];
      expect(service?.env_file).toBeUndefined();
      const keys = Object.keys(service?.environment ?? {});
      expect(keys.filter((key) => /JWT|SECRET|GITHUB|OIDC|PASSWORD|SESSION_KEY|COOKIE/.test(key))).toEqual([]);
      const usesRedis = name === 'echo-stateful' || name === 'fetchs';
      expect(keys.includes('REDIS_URL')).toBe(usesRedis);
      expect(service?.networks?.includes('internal')).toBe(usesRedis);
    }
  });

  it('drops every capability, forbids new privileges and mounts the root filesystem read-only', () => {
    // The overlay's partial entries (auth's and Traefik's added keys) merge into the hardened base ones.
    const whole = Object.entries(overlay.services).filter(([name]) => !(name in services));
    const all = { ...services, ...Object.fromEntries(whole) };
    for (const [name, service] of Object.entries(all)) {
      expect([name, service.cap_drop]).toEqual([name, ['ALL']]);
      expect([name, service.security_opt]).toEqual([name, ['no-new-privileges:true']]);
      if (name !== 'docker-socket-proxy') expect([name, service.read_only]).toEqual([name, true]);
    }
  });

  it("reaches Docker's API through a read-only socket proxy, not the socket itself", () => {
    expect(services['traefik']?.volumes?.some((volume) => volume.includes('docker.sock'))).toBe(false);
    const proxy = services['docker-socket-proxy'];
    expect(proxy?.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock:ro');
    expect(proxy?.environment).toMatchObject({ CONTAINERS: '1', POST: '0' });
    expect(proxy?.networks).toEqual(['docker-api']);
    expect(compose.networks['docker-api']?.internal).toBe(true);
  });
});
