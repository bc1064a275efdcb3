import { nameOf, snippets } from './snippets';

describe('token helper snippets', () => {
  it('names the server after its path (path mode) or its host (subdomain mode)', () => {
    expect(nameOf('http://localhost:8080/echo-stateless/mcp')).toBe('echo-stateless');
    expect(nameOf('https://fetchs.example.com/mcp')).toBe('fetchs');
  });

  it('prints the Claude Code command and the VS Code and Cursor configuration with the bearer header', () => {
    const out = snippets('echo', 'https://echo.example.com/mcp', 'tok');
    expect(out['Claude Code']).toBe(
      'claude mcp add --transport http echo https://echo.example.com/mcp --header "Authorization: Bearer tok"',
    );
    expect(JSON.parse(out['VS Code (.vscode/mcp.json)'] ?? '')).toEqual({
      servers: {
        echo: { type: 'http', url: 'https://echo.example.com/mcp', headers: { Authorization: 'Bearer tok' } },
      },
    });
    expect(JSON.parse(out['Cursor (~/.cursor/mcp.json)'] ?? '')).toEqual({
      mcpServers: { echo: { url: 'https://echo.example.com/mcp', headers: { Authorization: 'Bearer tok' } } },
    });
  });
});
