import { parseRule, type RequestFacts } from './rules';

const request = (path: string, method = 'GET', host = 'localhost'): RequestFacts => ({ host, path, method });

describe('parseRule', () => {
  it('matches Host without regard to case, Path exactly and PathPrefix as a string prefix', () => {
    expect(parseRule('Host(`LocalHost`)')(request('/'))).toBe(true);
    expect(parseRule('Host(`example.com`)')(request('/'))).toBe(false);
    expect(parseRule('Path(`/a`)')(request('/a'))).toBe(true);
    expect(parseRule('Path(`/a`)')(request('/a/'))).toBe(false);
    expect(parseRule('PathPrefix(`/a/`)')(request('/a/b'))).toBe(true);
    expect(parseRule('PathPrefix(`/a/`)')(request('/a'))).toBe(false);
    expect(parseRule('Method("OPTIONS")')(request('/', 'options'))).toBe(true);
  });

  it('gives ! precedence over &&, and && over ||', () => {
    const rule = parseRule('Path(`/x`) || Path(`/y`) && !Method(`POST`)');
    expect(rule(request('/x', 'POST'))).toBe(true);
    expect(rule(request('/y', 'POST'))).toBe(false);
    expect(rule(request('/y', 'GET'))).toBe(true);
  });

  it('honours parentheses', () => {
    const rule = parseRule('Host(`localhost`) && (Path(`/echo`) || PathPrefix(`/echo/`))');
    expect(rule(request('/echo'))).toBe(true);
    expect(rule(request('/echo/mcp'))).toBe(true);
    expect(rule(request('/echoes'))).toBe(false);
    expect(rule(request('/echo', 'GET', 'other'))).toBe(false);
    expect(parseRule('!(Path(`/a`) || Path(`/b`))')(request('/b'))).toBe(false);
  });

  it('supports the regexp matchers', () => {
    expect(parseRule('HostRegexp(`^[a-z]+\\.localhost$`)')(request('/', 'GET', 'echo.localhost'))).toBe(true);
    expect(parseRule('PathRegexp(`^/[0-9]+$`)')(request('/12'))).toBe(true);
  });

  it.each([
    ['Header(`X`, `y`)', /unsupported matcher Header/],
    ['Host(`a`, `b`)', /one argument/],
    ['Path(`/a`', /expected close/],
    ['Path(`/a`) &&', /expected name/],
    ['Path(`/a`) Path(`/b`)', /unexpected name/],
    ['Path(`/a)', /unterminated/],
    ['Path(/a)', /unexpected "\/"/],
  ])('refuses %s', (source, message) => {
    expect(() => parseRule(source)).toThrow(message);
  });
});
