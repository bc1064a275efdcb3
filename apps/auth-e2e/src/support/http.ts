import { request as httpRequest } from 'node:http';

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
  /** The same answer as a WHATWG Response, for oauth4webapi. */
  toResponse(): Response;
}

/**
 * A raw HTTP request (node:http): unlike fetch it can set any Host header (subdomain routing) and send
 * any body and content type.
 */
export function http(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        const headers = res.headers;
        resolve({
          status,
          headers,
          text,
          json: <T>() => JSON.parse(text) as T,
          toResponse: () => {
            const response = new Response(status === 204 ? null : text, {
              status,
              headers: Object.entries(headers).flatMap(([name, value]) =>
                value === undefined
                  ? []
                  : (Array.isArray(value) ? value : [value]).map((v): [string, string] => [name, v]),
              ),
            });
            return response;
          },
        });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** POST a JSON document (or a raw string) to /register-like endpoints. */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return http(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
