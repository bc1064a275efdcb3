import { resolveTopology } from '@gateway/catalog';
import { validateEnv } from '@gateway/config';
import { AuthEnv } from '../config/auth.env';
import type { UserIdentity } from '../store/records';
import { AccessPolicy } from './access-policy';

const policy = (env: Record<string, string>): AccessPolicy => new AccessPolicy(validateEnv(AuthEnv, env));
const github = (login: string, extra: Partial<UserIdentity> = {}): UserIdentity => ({
  sub: `github:${login}`,
  provider: 'github',
  login,
  ...extra,
});
const oidc = (email: string | undefined): UserIdentity => ({
  sub: 'oidc:1',
  provider: 'oidc',
  login: 'someone',
  ...(email ? { email } : {}),
});
const dev = (login: string): UserIdentity => ({ sub: `dev:${login}`, provider: 'dev', login });

describe('AccessPolicy', () => {
  describe('ALLOWED_GITHUB_USERS (docs/security.md S11)', () => {
    it('lets nobody in when empty or unset (fail-closed)', () => {
      expect(policy({ ALLOWED_GITHUB_USERS: '' }).check(github('alice')).allowed).toBe(false);
      expect(policy({}).check(github('alice')).allowed).toBe(false);
      expect(policy({ ALLOWED_GITHUB_USERS: ' , ' }).check(github('alice')).allowed).toBe(false);
    });

    it('trims entries and compares case-insensitively', () => {
      const p = policy({ ALLOWED_GITHUB_USERS: 'alice, Bob ,carol' });
      expect(p.check(github('bob')).allowed).toBe(true);
      expect(p.check(github('ALICE')).allowed).toBe(true);
      expect(p.check(github('mallory'))).toEqual({ allowed: false, reason: expect.stringContaining('mallory') });
    });

    it('lets every GitHub user in with *', () => {
      expect(policy({ ALLOWED_GITHUB_USERS: '*' }).check(github('anyone')).allowed).toBe(true);
    });

    it('does not apply to other providers', () => {
      expect(policy({ ALLOWED_GITHUB_USERS: '*', ALLOWED_DEV_USERS: '' }).check(dev('anyone')).allowed).toBe(false);
      expect(policy({ ALLOWED_GITHUB_USERS: '*' }).check(oidc('a@example.com')).allowed).toBe(false);
    });
  });

  describe('organisation and team rules', () => {
    it('requires membership of a listed organisation', () => {
      const p = policy({ ALLOWED_GITHUB_USERS: '*', ALLOWED_GITHUB_ORGS: 'Acme' });
      expect(p.needsGithubOrgs).toBe(true);
      expect(p.check(github('alice', { orgs: ['acme', 'other'] })).allowed).toBe(true);
      expect(p.check(github('bob', { orgs: ['other'] })).allowed).toBe(false);
      expect(p.check(github('carol')).allowed).toBe(false);
    });

    it('still requires the user list', () => {
      const p = policy({ ALLOWED_GITHUB_USERS: 'alice', ALLOWED_GITHUB_ORGS: 'acme' });
      expect(p.check(github('bob', { orgs: ['acme'] })).allowed).toBe(false);
    });

    it('requires membership of a listed team', () => {
      const p = policy({ ALLOWED_GITHUB_USERS: '*', ALLOWED_GITHUB_TEAMS: 'acme/Ops' });
      expect(p.needsGithubTeams).toBe(true);
      expect(p.check(github('alice', { teams: ['acme/ops'] })).allowed).toBe(true);
      expect(p.check(github('bob', { teams: ['acme/dev'] })).allowed).toBe(false);
    });
  });

  describe('OIDC emails and domains', () => {
    it('matches a verified email or its domain', () => {
      const p = policy({ ALLOWED_EMAILS: 'Alice@Example.com', ALLOWED_EMAIL_DOMAINS: '@corp.example' });
      expect(p.check(oidc('alice@example.com')).allowed).toBe(true);
      expect(p.check(oidc('bob@CORP.example')).allowed).toBe(true);
      expect(p.check(oidc('bob@example.com')).allowed).toBe(false);
      expect(p.check(oidc('bob@evilcorp.example')).allowed).toBe(false);
      expect(p.check(oidc(undefined)).allowed).toBe(false);
    });

    it('lets nobody in when both lists are empty, everyone with *', () => {
      expect(policy({}).check(oidc('a@example.com')).allowed).toBe(false);
      expect(policy({ ALLOWED_EMAILS: '*' }).check(oidc(undefined)).allowed).toBe(true);
    });
  });

  describe('dev login', () => {
    it('lets anyone in by default, only the listed users when set', () => {
      expect(policy({}).check(dev('whoever')).allowed).toBe(true);
      const p = policy({ ALLOWED_DEV_USERS: 'alice' });
      expect(p.check(dev('Alice')).allowed).toBe(true);
      expect(p.check(dev('bob')).allowed).toBe(false);
    });
  });

  describe('per-service allow-lists from the catalog', () => {
    const topology = resolveTopology({
      MCP_MEMORY_ALLOWED_USERS: 'alice, bob@example.com',
      MCP_FILESYSTEM_ALLOWED_USERS: '',
    });
    const service = (name: string) => topology.services.find((s) => s.name === name);

    it('applies on top of the global policy, by login or email', () => {
      const p = policy({ ALLOWED_DEV_USERS: '*', ALLOWED_EMAILS: '*' });
      expect(p.check(dev('alice'), service('memory')).allowed).toBe(true);
      expect(p.check(dev('carol'), service('memory'))).toEqual({
        allowed: false,
        reason: expect.stringContaining('memory'),
      });
      expect(p.check(oidc('BOB@example.com'), service('memory')).allowed).toBe(true);
      expect(p.check(dev('carol'), service('echo-stateless')).allowed).toBe(true);
    });

    it('an empty service list lets nobody in; the global refusal wins', () => {
      expect(policy({}).check(dev('alice'), service('filesystem')).allowed).toBe(false);
      expect(policy({ ALLOWED_DEV_USERS: 'bob' }).check(dev('alice'), service('memory')).allowed).toBe(false);
    });
  });
});
