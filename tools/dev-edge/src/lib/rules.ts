/**
 * Traefik v3 router rules, the part the gateway uses: `Host`, `HostRegexp`, `Path`, `PathPrefix`, `PathRegexp`,
 * `Method`, combined with `&&`, `||`, `!` and parentheses (`!` binds tightest, then `&&`, then `||`, as in Go).
 * Arguments are back-quoted or double-quoted strings. Unknown matchers are refused when the rule is parsed,
 * so the edge never silently ignores part of a configuration.
 */
export interface RequestFacts {
  /** Host header without the port, lower case. */
  readonly host: string;
  /** Path without the query string. */
  readonly path: string;
  readonly method: string;
}

export type Rule = (request: RequestFacts) => boolean;

const MATCHERS: Record<string, (argument: string) => Rule> = {
  // Traefik compares the host case-insensitively and without the port.
  Host:
    (host) =>
    ({ host: actual }) =>
      actual === host.toLowerCase(),
  HostRegexp: (pattern) => {
    const regexp = new RegExp(pattern, 'i');
    return ({ host }) => regexp.test(host);
  },
  Path:
    (path) =>
    ({ path: actual }) =>
      actual === path,
  PathPrefix:
    (prefix) =>
    ({ path }) =>
      path.startsWith(prefix),
  PathRegexp: (pattern) => {
    const regexp = new RegExp(pattern);
    return ({ path }) => regexp.test(path);
  },
  Method:
    (method) =>
    ({ method: actual }) =>
      actual.toUpperCase() === method.toUpperCase(),
};

type Token = { kind: 'and' | 'or' | 'not' | 'open' | 'close' | 'comma' } | { kind: 'name' | 'string'; value: string };

export function parseRule(source: string): Rule {
  const tokens = tokenize(source);
  let position = 0;
  const peek = () => tokens[position];
  const fail = (message: string): never => {
    throw new Error(`rule ${JSON.stringify(source)}: ${message}`);
  };
  const expect = (kind: Token['kind']) => {
    const token = tokens[position++];
    if (token?.kind !== kind) fail(`expected ${kind}, found ${token ? token.kind : 'the end'}`);
    return token as Token;
  };

  const orExpression = (): Rule => {
    const terms = [andExpression()];
    while (peek()?.kind === 'or') {
      position++;
      terms.push(andExpression());
    }
    return terms.length === 1 ? (terms[0] as Rule) : (request) => terms.some((term) => term(request));
  };
  const andExpression = (): Rule => {
    const terms = [unary()];
    while (peek()?.kind === 'and') {
      position++;
      terms.push(unary());
    }
    return terms.length === 1 ? (terms[0] as Rule) : (request) => terms.every((term) => term(request));
  };
  const unary = (): Rule => {
    const token = peek();
    if (token?.kind === 'not') {
      position++;
      const inner = unary();
      return (request) => !inner(request);
    }
    if (token?.kind === 'open') {
      position++;
      const inner = orExpression();
      expect('close');
      return inner;
    }
    const name = (expect('name') as { value: string }).value;
    const matcher = MATCHERS[name] ?? fail(`unsupported matcher ${name}`);
    expect('open');
    const argument = (expect('string') as { value: string }).value;
    if (peek()?.kind === 'comma') fail(`${name} takes one argument (Traefik v3 syntax)`);
    expect('close');
    return matcher(argument);
  };

  const rule = orExpression();
  if (position !== tokens.length) fail(`unexpected ${peek()?.kind}`);
  return rule;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source.charAt(index);
    if (/\s/.test(char)) {
      index++;
    } else if (source.startsWith('&&', index)) {
      tokens.push({ kind: 'and' });
      index += 2;
    } else if (source.startsWith('||', index)) {
      tokens.push({ kind: 'or' });
      index += 2;
    } else if (char === '!' || char === '(' || char === ')' || char === ',') {
      tokens.push({ kind: ({ '!': 'not', '(': 'open', ')': 'close', ',': 'comma' } as const)[char] });
      index++;
    } else if (char === '`' || char === '"') {
      const end = source.indexOf(char, index + 1);
      if (end < 0) throw new Error(`rule ${JSON.stringify(source)}: unterminated string`);
      tokens.push({ kind: 'string', value: source.slice(index + 1, end) });
      index = end + 1;
    } else {
      const name = /^[A-Za-z]+/.exec(source.slice(index))?.[0];
      if (!name) throw new Error(`rule ${JSON.stringify(source)}: unexpected ${JSON.stringify(char)}`);
      tokens.push({ kind: 'name', value: name });
      index += name.length;
    }
  }
  return tokens;
}
