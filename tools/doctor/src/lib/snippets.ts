/** The configuration each client needs for a server with a fixed bearer token. */
export function snippets(name: string, url: string, token: string): Record<string, string> {
  const header = `Bearer ${token}`;
  return {
    'Claude Code': `claude mcp add --transport http ${name} ${url} --header "Authorization: ${header}"`,
    'VS Code (.vscode/mcp.json)': JSON.stringify(
      { servers: { [name]: { type: 'http', url, headers: { Authorization: header } } } },
      null,
      2,
    ),
    'Cursor (~/.cursor/mcp.json)': JSON.stringify(
      { mcpServers: { [name]: { url, headers: { Authorization: header } } } },
      null,
      2,
    ),
  };
}

/** `echo-stateless` from http://host/echo-stateless/mcp, `fetchs` from https://fetchs.example.com/mcp. */
export function nameOf(url: string): string {
  const { hostname, pathname } = new URL(url);
  const segment = pathname
    .replace(/\/mcp\/?$/, '')
    .split('/')
    .filter(Boolean)
    .pop();
  return (segment ?? hostname.split('.')[0] ?? 'mcp').replace(/[^A-Za-z0-9_-]/g, '-');
}
