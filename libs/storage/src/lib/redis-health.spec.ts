import { EventEmitter } from 'node:events';
import { logRedisOutages } from './redis-health';

it('logs an outage once when it starts and once when Redis is back, for each outage', () => {
  const client = new EventEmitter();
  const lines: string[] = [];
  let clock = 1_000;
  logRedisOutages(
    client,
    { error: (line) => lines.push(`error ${line}`), warn: (line) => lines.push(`warn ${line}`) },
    () => clock,
  );
  client.emit('ready'); // the first connection: nothing to report
  for (let attempt = 0; attempt < 5; attempt++) client.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:6379'));
  clock += 4_500;
  client.emit('ready');
  client.emit('error', new Error('read ECONNRESET'));
  client.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:6379'));
  expect(lines).toEqual([
    'error Redis unavailable: connect ECONNREFUSED 127.0.0.1:6379; reconnecting (logged again when it is back)',
    'warn Redis available again after 4.5 s (5 failed attempts)',
    'error Redis unavailable: read ECONNRESET; reconnecting (logged again when it is back)',
  ]);
});
