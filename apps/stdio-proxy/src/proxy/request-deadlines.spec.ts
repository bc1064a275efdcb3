import { duplicateIdOf, endedError, RequestDeadlines, timeoutError } from './request-deadlines';

describe('duplicateIdOf', () => {
  const open = new Set<string | number>([1, 'a']);
  const isOpen = (id: string | number) => open.has(id);

  it('finds a request reusing an id in flight, in one message or a batch', () => {
    expect(duplicateIdOf({ jsonrpc: '2.0', id: 1, method: 'ping' }, isOpen)).toBe(1);
    expect(
      duplicateIdOf(
        [
          { jsonrpc: '2.0', id: 2, method: 'ping' },
          { jsonrpc: '2.0', id: 'a', method: 'x' },
        ],
        isOpen,
      ),
    ).toBe('a');
  });

  it('finds an id repeated within a batch', () => {
    const request = { jsonrpc: '2.0', id: 3, method: 'ping' };
    expect(duplicateIdOf([request, request], isOpen)).toBe(3);
  });

  it('ignores responses, notifications and new ids (1 and "1" differ)', () => {
    expect(duplicateIdOf({ jsonrpc: '2.0', id: 1, result: {} }, isOpen)).toBeUndefined();
    expect(duplicateIdOf({ jsonrpc: '2.0', method: 'notifications/initialized' }, isOpen)).toBeUndefined();
    expect(duplicateIdOf({ jsonrpc: '2.0', id: '1', method: 'ping' }, isOpen)).toBeUndefined();
    expect(duplicateIdOf(null, isOpen)).toBeUndefined();
  });
});

describe('RequestDeadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('expires a request not settled in time, restarting the clock on touch', () => {
    const expired: string[] = [];
    const deadlines = new RequestDeadlines<string>(1000, (key) => expired.push(key));
    deadlines.start('a');
    deadlines.start('b');
    jest.advanceTimersByTime(600);
    deadlines.touch('a');
    expect(deadlines.settle('b')).toBe(true);
    jest.advanceTimersByTime(600);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(400);
    expect(expired).toEqual(['a']);
    expect(deadlines.has('a')).toBe(false);
    expect(deadlines.settle('a')).toBe(false);
  });

  it('drains every open request', () => {
    const expired: number[] = [];
    const deadlines = new RequestDeadlines<number>(1000, (key) => expired.push(key));
    deadlines.start(1);
    deadlines.start(2);
    expect(deadlines.drain()).toEqual([1, 2]);
    jest.advanceTimersByTime(2000);
    expect(expired).toEqual([]);
    expect(deadlines.size).toBe(0);
  });
});

it('errors say what happened, with the standard codes', () => {
  expect(endedError(5, true)).toEqual({
    jsonrpc: '2.0',
    id: 5,
    error: { code: -32603, message: 'The MCP server process exited' },
  });
  expect(timeoutError('x', 3).error).toEqual({ code: -32001, message: 'Request timed out: no answer within 3 s' });
});
