import { resolveTopology } from '@gateway/catalog';
import { validateEnv } from '@gateway/config';
import { AuthEnv } from '../config/auth.env';
import type { UserIdentity } from '../store/records';
import { AccessPolicy } from './access-policy';

const policy = (env: Record<string, string>): AccessPolicy => new AccessPolicy(validateEnv(AuthEnv, env));
/** GitHub users of these tests and their numeric ids. */
const IDS: Record<string, number> = { alice: 1001, bob: 1002, carol: 1003, mallory: 6666, anyone: 7777 };
const github = (login: string, extra: Partial<UserIdentity> = {}): UserIdentity => ({
  sub: `github:${IDS[login.toLowerCase()] ?? 9999}`,
  provider: 'github',
  login,
  ...extra,
});
const oidc = (email: string | undefined, extra: Partial<UserIdentity> = {}): UserIdentity => ({
  sub: 'oidc:1',
  provider: 'oidc',
  login: 'someone',
  ...(email ? { email } : {}),
  ...extra,
});
const dev = (login: string): UserIdentity => ({ sub: `dev:${login}`, provider: 'dev', login });

describe('AccessPolicy', () => {
  describe('ALLOWED_GITHUB_USERS (docs/security.md S11)', () => {
    it('lets nobody in when empty or unset (fail-closed)', () => {
      expect(policy({ ALLOWED_GITHUB_USERS: '' }).check(github('alice')).allowed).toBe(false);
      expect(policy({}).check(github('alice')).allowed).toBe(false);
      expect(policy({ ALLOWED_GITHUB_USERS: ' , ' }).check(github('alice')).allowed).toBe(false);
    });

    it('matches numeric ids, optionally labelled login:id, trimmed', () => {
      const p = policy({ ALLOWED_GITHUB_USERS: '1001, bob:1002 ,1003' });
      expect(p.check(github('bob')).allowed).toBe(true);
      expect(p.check(github('ALICE')).allowed).toBe(true);
      expect(p.check(github('mallory'))).toEqual({ allowed: false, reason: expect.stringContaining('mallory') });
    });

    // docs/security.md S35: a login is recyclable; the id is not.
    it('follows the id, not the login, when a GitHub user renames and another takes the old login', () => {
      const p = policy({ ALLOWED_GITHUB_USERS: 'alice:1001' });
      expect(p.check({ sub: 'github:1001', provider: 'github', login: 'alice-renamed' }).allowed).toBe(true);
      expect(p.check({ sub: 'github:6666', provider: 'github', login: 'alice' }).allowed).toBe(false);
    });

    it('refuses to boot with a login in the list, and says what to write instead', () => {
      expect(() => policy({ ALLOWED_GITHUB_USERS: 'alice, 1002' })).toThrow(
        /ALLOWED_GITHUB_USERS: "alice" is a GitHub login.*alice:<id>.*api\.github\.com\/users\/alice/,
      );
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
      const p = policy({ ALLOWED_GITHUB_USERS: '1001', ALLOWED_GITHUB_ORGS: 'acme' });
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

  describe('per-service allow-lists from the catalog (docs/security.md S35)', () => {
    const topology = resolveTopology({
      MCP_MEMORY_ALLOWED_USERS: 'dev:Alice, bob@example.com, github:1003, github:alice:1001, oidc:Sub-9',
      MCP_FILESYSTEM_ALLOWED_USERS: '',
    });
    const service = (name: string) => topology.services.find((s) => s.name === name);
    const p = policy({ ALLOWED_DEV_USERS: '*', ALLOWED_EMAILS: '*', ALLOWED_GITHUB_USERS: '*' });

    it('applies on top of the global policy, by stable subject or verified email', () => {
      expect(p.check(dev('alice'), service('memory')).allowed).toBe(true);
      expect(p.check(dev('carol'), service('memory'))).toEqual({
        allowed: false,
        reason: expect.stringContaining('memory'),
      });
      expect(p.check(oidc('BOB@example.com'), service('memory')).allowed).toBe(true);
      expect(p.check(github('carol'), service('memory')).allowed).toBe(true);
      expect(p.check(github('alice'), service('memory')).allowed).toBe(true);
      expect(p.check(oidc(undefined, { sub: 'oidc:Sub-9' }), service('memory')).allowed).toBe(true);
      expect(p.check(dev('carol'), service('echo-stateless')).allowed).toBe(true);
    });

    it('does not match an OIDC username the user chose, nor an unverified email', () => {
      // Mallory registers the username bob@example.com at the IdP; her email is not verified, so the
      // provider left it out of the identity (login/oidc.provider.ts).
      expect(p.check(oidc(undefined, { sub: 'oidc:m', login: 'bob@example.com' }), service('memory')).allowed).toBe(
        false,
      );
      expect(p.check(oidc(undefined, { sub: 'oidc:sub-9' }), service('memory')).allowed).toBe(false);
    });

    it('does not match a GitHub login that was renamed and taken by someone else', () => {
      expect(p.check({ sub: 'github:6666', provider: 'github', login: 'carol' }, service('memory')).allowed).toBe(
        false,
      );
    });

    it('an empty service list lets nobody in; the global refusal wins', () => {
      expect(policy({}).check(dev('alice'), service('filesystem')).allowed).toBe(false);
      expect(policy({ ALLOWED_DEV_USERS: 'bob' }).check(dev('alice'), service('memory')).allowed).toBe(false);
    });

    it('refuses to boot with a bare login or username, and says what to write instead', () => {
      expect(() => policy({ MCP_MEMORY_ALLOWED_USERS: 'alice, dev:bob' })).toThrow(
        /MCP_MEMORY_ALLOWED_USERS: "alice" is not a stable identifier.*github:<numeric id>.*oidc:<sub>/,
      );
      expect(() => policy({ MCP_MEMORY_ALLOWED_USERS: 'github:alice' })).toThrow(/"github:alice"/);
    });
  });
});
