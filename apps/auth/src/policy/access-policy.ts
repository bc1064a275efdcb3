import { Injectable } from '@nestjs/common';
import { envKeyOf, mayBeGranted, policiesNeed, type ResolvedService } from '@gateway/catalog';
import { type AllowList, parseGithubUsers, parseServiceUsers } from '../config/allow-lists';
import { AuthEnv } from '../config/auth.env';
import type { UserIdentity } from '../store/records';

export type AccessDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALLOWED: AccessDecision = { allowed: true };

/**
 * Who may use the gateway, checked at login and again whenever a token is used or refreshed, so that
 * removing someone from a list takes effect. Fail-closed (docs/security.md S11): an empty list lets nobody in,
 * `*` lets everyone in, entries are trimmed and compared case-insensitively.
 * Only identifiers the person cannot choose decide (docs/security.md S35, config/allow-lists.ts):
 * - github: numeric user id in ALLOWED_GITHUB_USERS, and if ALLOWED_GITHUB_ORGS / ALLOWED_GITHUB_TEAMS are set, a member of one;
 * - oidc: verified email in ALLOWED_EMAILS or its domain in ALLOWED_EMAIL_DOMAINS;
 * - dev: username in ALLOWED_DEV_USERS (the dev login never runs in production);
 * - per service: `MCP_<NAME>_ALLOWED_USERS` (`github:<id>`, `oidc:<sub>`, `dev:<name>` or a verified email)
 *   on top of the above, when set.
 */
@Injectable()
export class AccessPolicy {
  private readonly githubUsers: AllowList;
  private readonly serviceLists = new Map<string, AllowList>();
  private readonly githubOrgs: readonly string[];
  private readonly githubTeams: readonly string[];
  private readonly emails: Matcher;
  private readonly emailDomains: readonly string[];
  private readonly devUsers: Matcher;
  /** Per-tool grants name GitHub organisations / teams (docs/authorization.md). */
  private readonly grantsNeed: { readonly orgs: boolean; readonly teams: boolean };

  public constructor(env: AuthEnv) {
    const policies = env.topology.services.map((service) => service.policy);
    this.grantsNeed = { orgs: policiesNeed(policies, 'github-org'), teams: policiesNeed(policies, 'github-team') };
    this.githubUsers = parseGithubUsers(env.ALLOWED_GITHUB_USERS);
    this.githubOrgs = normalise(env.ALLOWED_GITHUB_ORGS);
    this.githubTeams = normalise(env.ALLOWED_GITHUB_TEAMS);
    this.emails = matcher(env.ALLOWED_EMAILS);
    this.emailDomains = normalise(env.ALLOWED_EMAIL_DOMAINS).map((domain) => domain.replace(/^@/, ''));
    this.devUsers = matcher(env.ALLOWED_DEV_USERS);
  }

  /** Whether GitHub organisation / team membership must be read at login. */
  public get needsGithubOrgs(): boolean {
    return this.githubOrgs.length > 0 || this.grantsNeed.orgs;
  }

  public get needsGithubTeams(): boolean {
    return this.githubTeams.length > 0 || this.grantsNeed.teams;
  }

  /**
   * The requested service scopes this user may not be granted (docs/authorization.md, "who may be granted
   * what"): the authorization then ends with access_denied instead of a token that would fail and step up again.
   */
  public refusedScopes(user: UserIdentity, service: ResolvedService, scope: string): string[] {
    return scope
      .split(' ')
      .filter((wanted) => service.policy.scopes.has(wanted) && !mayBeGranted(service.policy, wanted, user));
  }

  public check(user: UserIdentity, service?: ResolvedService): AccessDecision {
    const global = this.checkGlobal(user);
    if (!global.allowed || !service?.allowedUsers) return global;
    let list = this.serviceLists.get(service.name);
    if (!list) {
      list = parseServiceUsers(`MCP_${envKeyOf(service.name)}_ALLOWED_USERS`, service.allowedUsers);
      this.serviceLists.set(service.name, list);
    }
    return admits(list, user)
      ? ALLOWED
      : { allowed: false, reason: `${user.sub} (${user.login}) is not on the allow-list of ${service.name}` };
  }

  private checkGlobal(user: UserIdentity): AccessDecision {
    switch (user.provider) {
      case 'github': {
        if (!admits(this.githubUsers, user))
          return { allowed: false, reason: `GitHub user ${user.login} (${user.sub}) is not in ALLOWED_GITHUB_USERS` };
        const orgs = normalise(user.orgs ?? []);
        if (this.githubOrgs.length > 0 && !this.githubOrgs.some((org) => orgs.includes(org))) {
          return {
            allowed: false,
            reason: `GitHub user ${user.login} is not a member of an organisation in ALLOWED_GITHUB_ORGS`,
          };
        }
        const teams = normalise(user.teams ?? []);
        if (this.githubTeams.length > 0 && !this.githubTeams.some((team) => teams.includes(team))) {
          return {
            allowed: false,
            reason: `GitHub user ${user.login} is not a member of a team in ALLOWED_GITHUB_TEAMS`,
          };
        }
        return ALLOWED;
      }
      case 'oidc': {
        const email = user.email?.toLowerCase() ?? '';
        if (this.emails(email) || (email && this.emailDomains.includes(email.slice(email.lastIndexOf('@') + 1))))
          return ALLOWED;
        return {
          allowed: false,
          reason: `${email || `${user.login} (no verified email)`} is not in ALLOWED_EMAILS or ALLOWED_EMAIL_DOMAINS`,
        };
      }
      case 'dev':
        return this.devUsers(user.login)
          ? ALLOWED
          : { allowed: false, reason: `dev user ${user.login} is not in ALLOWED_DEV_USERS` };
      default:
        return { allowed: false, reason: 'unknown identity provider' };
    }
  }
}

type Matcher = (name: string) => boolean;

/** By stable subject, or by email when the provider verified it (`UserIdentity.email` is verified only). */
function admits(list: AllowList, user: UserIdentity): boolean {
  if (list.everyone || list.subjects.has(user.sub)) return true;
  return user.email !== undefined && list.emails.has(user.email.toLowerCase());
}

function normalise(list: readonly string[]): string[] {
  return list.map((item) => item.trim().toLowerCase()).filter(Boolean);
}

/** An allow-list: `*` admits everyone, otherwise a trimmed case-insensitive match; empty admits nobody. */
function matcher(list: readonly string[]): Matcher {
  const entries = new Set(normalise(list));
  if (entries.has('*')) return () => true;
  return (name) => entries.has(name.trim().toLowerCase());
}
