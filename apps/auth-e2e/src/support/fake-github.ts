import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGithubUser {
  readonly id: number;
  readonly login: string;
  readonly name?: string;
  readonly emails: readonly { email: string; primary: boolean; verified: boolean }[];
  readonly orgs: readonly string[];
  readonly teams?: readonly { org: string; slug: string }[];
}

/**
 * A GitHub-compatible OAuth app server for tests, GitHub Enterprise layout (web at /, REST at /api/v3):
 * /login/oauth/authorize (signs in `nextUser` at once, or answers `error=access_denied` when `deny` is set),
 * /login/oauth/access_token, /api/v3/user, /user/emails, /user/orgs, /user/teams. Records what it was asked.
 */
export class FakeGithub {
  public nextUser?: FakeGithubUser;
  public deny = false;
  public readonly authorizeRequests: URLSearchParams[] = [];
  private readonly codes = new Map<string, { user: FakeGithubUser; redirectUri: string; challenge?: string }>();
  private readonly tokens = new Map<string, FakeGithubUser>();
  private server?: Server;
  public url = '';

  public constructor(
    public readonly clientId: string,
    public readonly clientSecret: string,
  ) {}

  public async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      this.authorizeRequests.push(url.searchParams);
      const redirect = new URL(url.searchParams.get('redirect_uri') ?? '');
      if (url.searchParams.get('client_id') !== this.clientId) return json(404, { error: 'unknown client' });
      redirect.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (this.deny || !this.nextUser) {
        redirect.searchParams.set('error', 'access_denied');
        redirect.searchParams.set('error_description', 'The user has denied your application access.');
      } else {
        const code = randomBytes(10).toString('hex');
        this.codes.set(code, {
          user: this.nextUser,
          redirectUri: url.searchParams.get('redirect_uri') ?? '',
          challenge: url.searchParams.get('code_challenge') ?? undefined,
        });
        redirect.searchParams.set('code', code);
      }
      res.writeHead(302, { location: redirect.href }).end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const form = new URLSearchParams(await body(req));
      const grant = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret)
        return json(200, { error: 'incorrect_client_credentials' });
      // GitHub answers 200 with an error body for a bad code.
      if (!grant || grant.redirectUri !== form.get('redirect_uri'))
        return json(200, { error: 'bad_verification_code' });
      // PKCE as GitHub checks it (S256): a challenge sent on authorize requires the matching verifier.
      const verifier = form.get('code_verifier');
      if (
        grant.challenge !== undefined &&
        createHash('sha256')
          .update(verifier ?? '')
          .digest('base64url') !== grant.challenge
      )
        return json(200, { error: 'bad_verification_code', error_description: 'code_verifier does not match' });
      const token = `gho_${randomBytes(12).toString('hex')}`;
      this.tokens.set(token, grant.user);
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const user = this.tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!url.pathname.startsWith('/api/v3/')) return json(404, { message: 'Not Found' });
    if (!user) return json(401, { message: 'Bad credentials' });
    switch (url.pathname) {
      case '/api/v3/user':
        return json(200, { id: user.id, login: user.login, name: user.name ?? null, email: null });
      case '/api/v3/user/emails':
        return json(200, user.emails);
      case '/api/v3/user/orgs':
        return json(
          200,
          user.orgs.map((login, index) => ({ login, id: 1000 + index })),
        );
      case '/api/v3/user/teams':
        return json(
          200,
          (user.teams ?? []).map((team) => ({ slug: team.slug, organization: { login: team.org } })),
        );
      default:
        return json(404, { message: 'Not Found' });
    }
  }
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
