import { FetchFailed, FetchRefused } from './fetch-errors';
import { RobotsRules, type RobotsSource } from './robots-rules';

const UA = 'ModelContextProtocol/1.0 (Autonomous; test)';
const ROBOTS =
  'User-agent: ModelContextProtocol\nDisallow: /private/\nAllow: /private/open\n\nUser-agent: *\nDisallow: /\n';

function source(
  answers: Record<string, { status: number; text?: string } | Error>,
): RobotsSource & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (url: URL): Promise<{ status: number; text: string }> => {
    calls.push(url.href);
    const answer = answers[url.origin];
    if (!answer) throw new Error(`unexpected ${url.href}`);
    if (answer instanceof Error) throw answer;
    return { status: answer.status, text: answer.text ?? '' };
  };
  return Object.assign(fn, { calls });
}

describe('RobotsRules', () => {
  it('applies the group of our user agent and fetches robots.txt once per origin', async () => {
    const robotsSource = source({ 'http://a.example': { status: 200, text: ROBOTS } });
    const robots = new RobotsRules(robotsSource, UA);
    await expect(robots.check(new URL('http://a.example/public'))).resolves.toBeUndefined();
    await expect(robots.check(new URL('http://a.example/private/open'))).resolves.toBeUndefined();
    await expect(robots.check(new URL('http://a.example/private/x'))).rejects.toThrow(
      new FetchRefused(`refused by robots.txt: http://a.example/robots.txt disallows /private/x for "${UA}"`),
    );
    expect(robotsSource.calls).toEqual(['http://a.example/robots.txt']);
  });

  it('treats 4xx as no rules and 5xx or an unreachable server as disallow-all (RFC 9309 §2.3.1)', async () => {
    const robots = new RobotsRules(
      source({
        'http://gone.example': { status: 404 },
        'http://broken.example': { status: 503 },
        'http://down.example': new FetchFailed('down.example: ECONNREFUSED'),
      }),
      UA,
    );
    await expect(robots.check(new URL('http://gone.example/x'))).resolves.toBeUndefined();
    await expect(robots.check(new URL('http://broken.example/x'))).rejects.toThrow(/could not be fetched \(HTTP 503\)/);
    await expect(robots.check(new URL('http://down.example/x'))).rejects.toThrow(
      /could not be fetched \(down\.example: ECONNREFUSED\)/,
    );
  });

  it('passes the SSRF guard refusal through instead of a robots verdict', async () => {
    const robots = new RobotsRules(
      source({ 'http://10.0.0.1': new FetchRefused('refused: 10.0.0.1 is not public') }),
      UA,
    );
    await expect(robots.check(new URL('http://10.0.0.1/'))).rejects.toThrow(
      new FetchRefused('refused: 10.0.0.1 is not public'),
    );
  });

  it('keeps at most maxOrigins origins', async () => {
    const robotsSource = source({ 'http://a.example': { status: 404 }, 'http://b.example': { status: 404 } });
    const robots = new RobotsRules(robotsSource, UA, 1);
    await robots.check(new URL('http://a.example/'));
    await robots.check(new URL('http://b.example/'));
    await robots.check(new URL('http://a.example/'));
    expect(robotsSource.calls).toEqual([
      'http://a.example/robots.txt',
      'http://b.example/robots.txt',
      'http://a.example/robots.txt',
    ]);
  });
});
