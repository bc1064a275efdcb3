import { createHash } from 'node:crypto';
import { pkcePair, wellKnownUrl } from './oauth';
import { renderText, summarize } from './report';

describe('wellKnownUrl (RFC 8414 §3.1, RFC 9728 §3.1)', () => {
  it('inserts the well-known segment before the path', () => {
    expect(wellKnownUrl('https://mcp.example/echo/mcp', 'oauth-protected-resource')).toBe(
      'https://mcp.example/.well-known/oauth-protected-resource/echo/mcp',
    );
    expect(wellKnownUrl('https://auth.example', 'oauth-authorization-server')).toBe(
      'https://auth.example/.well-known/oauth-authorization-server',
    );
    expect(wellKnownUrl('https://auth.example/tenant/', 'oauth-authorization-server')).toBe(
      'https://auth.example/.well-known/oauth-authorization-server/tenant',
    );
  });
});

describe('pkcePair (RFC 7636 §4.2)', () => {
  it('derives the S256 challenge from a 43-character verifier', () => {
    const { verifier, challenge } = pkcePair();
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });
});

describe('the report', () => {
  it('fails when one check fails, prints the fix under it, and counts each status', () => {
    const report = summarize('https://mcp.example/mcp', [
      { id: 'reach', subject: 'svc', status: 'pass', detail: 'ok' },
      { id: 'clock', subject: 'svc', status: 'fail', detail: 'ahead', fix: 'use NTP' },
      { id: 'registration', subject: 'as', status: 'warn', detail: 'dcr only', fix: 'add CIMD' },
    ]);
    expect(report.ok).toBe(false);
    expect(report.summary).toEqual({ pass: 1, fail: 1, warn: 1, skip: 0 });
    const text = renderText(report);
    expect(text).toMatch(/FAIL {2}clock +ahead\n +fix: use NTP/);
    expect(text).toContain('1 passed, 1 failed, 1 warnings, 0 skipped');
    expect(summarize('x', [{ id: 'reach', subject: 's', status: 'warn', detail: '' }]).ok).toBe(true);
  });
});
