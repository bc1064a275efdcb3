// The floor the dev edge is compared with: the least a forwardAuth proxy can do (not a product, not a test). For
// every request: a GET to AUTH_URL with the client's Authorization and X-Forwarded-*, then, on a 2xx, the request
// with the identity headers /verify returned to SERVICE_URL + SERVICE_PATH, and the answer back. One route, no
// rules, no CORS, no hop-by-hop filtering, no X-Forwarded-For: only the two loopback exchanges the architecture
// needs, on node:http and undici like the edge. Env: PORT, AUTH_URL (/verify's full URL), SERVICE_URL, SERVICE_PATH,
// PUBLIC_HOST (the host clients and /verify see: the token's audience names it).
import { createServer } from 'node:http';
import { Pool } from 'undici';

const verify = new URL(process.env.AUTH_URL);
const auth = new Pool(verify.origin);
const service = new Pool(process.env.SERVICE_URL);
const servicePath = process.env.SERVICE_PATH;
const publicHost = process.env.PUBLIC_HOST;

createServer(async (req, res) => {
  try {
    const verdict = await auth.request({
      path: verify.pathname,
      method: 'GET',
      headers: {
        authorization: req.headers.authorization ?? '',
        'x-forwarded-method': req.method,
        'x-forwarded-proto': 'http',
        'x-forwarded-host': publicHost,
        'x-forwarded-uri': req.url,
      },
    });
    if (verdict.statusCode !== 200) {
      res.writeHead(verdict.statusCode).end(await verdict.body.text());
      return;
    }
    await verdict.body.dump();
    const headers = { ...req.headers, host: publicHost };
    for (const [name, value] of Object.entries(verdict.headers)) if (name.startsWith('x-')) headers[name] = value;
    delete headers['connection'];
    const answer = await service.request({
      path: servicePath,
      method: req.method,
      headers,
      body: Buffer.concat(await req.toArray()),
    });
    const body = Buffer.from(await answer.body.arrayBuffer());
    res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] }).end(body);
  } catch (error) {
    res.writeHead(502).end(String(error));
  }
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
