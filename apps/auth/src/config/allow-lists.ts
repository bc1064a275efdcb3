import { ConfigValidationError } from '@gateway/config';

/**
 * Allow-lists name people by identifiers they cannot choose (docs/security.md S35): a GitHub login can be
 * renamed and then registered by someone else, and an OIDC `preferred_username` is self-chosen on many IdPs
 * (OIDC Core §5.7: only `sub` is stable and unique within the issuer). So entries are stable subjects
 * (`github:<numeric id>`, `oidc:<sub>`, `dev:<name>`) or email addresses, which match only a verified email
 * (OIDC Core §5.1 `email_verified`, GitHub's primary verified email). `*` admits everyone.
 */
export interface AllowList {
  readonly everyone: boolean;
  /** `UserIdentity.sub` values: `github:<id>`, `oidc:<sub>` (case-sensitive), `dev:<name>` (lower-case). */
  readonly subjects: ReadonlySet<string>;
  /** Lower-case addresses, matched against verified emails only. */
  readonly emails: ReadonlySet<string>;
}

const GITHUB_ID = /^\d{1,20}$/;
/** `login:id`: a login pinned to its id; the id decides, the login is a label for whoever reads the list. */
const GITHUB_LABELLED_ID = /^[A-Za-z0-9-]{1,39}:(\d{1,20})$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** `ALLOWED_GITHUB_USERS`: numeric GitHub user ids, optionally labelled `login:id`, or `*`. */
export function parseGithubUsers(entries: readonly string[], problems: string[] = []): AllowList {
  const subjects = new Set<string>();
  let everyone = false;
  for (const entry of clean(entries)) {
    const id = entry.match(GITHUB_ID)?.[0] ?? entry.match(GITHUB_LABELLED_ID)?.[1];
    if (entry === '*') everyone = true;
    else if (id) subjects.add(`github:${id}`);
    else
      problems.push(
        `ALLOWED_GITHUB_USERS: "${entry}" is a GitHub login, which its owner can rename and someone else can then ` +
          `register. List the numeric user id instead, optionally labelled: ${entry}:<id> (the "id" of ` +
          `https://api.github.com/users/${encodeURIComponent(entry)})`,
      );
  }
  return { everyone, subjects, emails: new Set() };
}

/** `MCP_<NAME>_ALLOWED_USERS`: `github:<id>`, `github:<login>:<id>`, `oidc:<sub>`, `dev:<name>`, an email, or `*`. */
export function parseServiceUsers(key: string, entries: readonly string[], problems: string[] = []): AllowList {
  const subjects = new Set<string>();
  const emails = new Set<string>();
  let everyone = false;
  for (const entry of clean(entries)) {
    const colon = entry.indexOf(':');
    const prefix = colon > 0 ? entry.slice(0, colon).toLowerCase() : '';
    const rest = entry.slice(colon + 1);
    const githubId = rest.match(GITHUB_ID)?.[0] ?? rest.match(GITHUB_LABELLED_ID)?.[1];
    if (entry === '*') everyone = true;
    else if (prefix === 'github' && githubId) subjects.add(`github:${githubId}`);
    else if (prefix === 'oidc' && rest) subjects.add(`oidc:${rest}`);
    else if (prefix === 'dev' && rest) subjects.add(`dev:${rest.toLowerCase()}`);
    else if (!prefix && EMAIL.test(entry)) emails.add(entry.toLowerCase());
    else
      problems.push(
        `${key}: "${entry}" is not a stable identifier (logins and usernames can be chosen or recycled by ` +
          `others). Write github:<numeric id> (or github:<login>:<id>), oidc:<sub>, dev:<name>, or an email ` +
          `address (matched only when the provider verified it)`,
      );
  }
  return { everyone, subjects, emails };
}

/** `@EnvDerived` check: refuses at boot any allow-list entry that names a person by a choosable identifier. */
export function checkAllowLists(raw: Readonly<Record<string, string | undefined>>): true {
  const problems: string[] = [];
  parseGithubUsers(split(raw['ALLOWED_GITHUB_USERS']), problems);
  for (const [key, value] of Object.entries(raw)) {
    if (/^MCP_[A-Z0-9_]+_ALLOWED_USERS$/.test(key)) parseServiceUsers(key, split(value), problems);
  }
  if (problems.length > 0) throw new ConfigValidationError(problems, 'the allow-lists');
  return true;
}

function split(value: string | undefined): string[] {
  return (value ?? '').split(',');
}

function clean(entries: readonly string[]): string[] {
  return entries.map((entry) => entry.trim()).filter(Boolean);
}
