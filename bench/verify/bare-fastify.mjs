// The ceiling /verify is compared with: a bare Fastify handler that answers 200 with two headers, logger off.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.all('/verify', async (_request, reply) => {
  reply.header('x-user-id', 'dev:bench').header('x-user-name', 'bench').code(200);
  return '';
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
