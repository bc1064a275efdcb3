import { FetchFailed } from './fetch-errors';
import { concurrencyLimit } from './html-converter';

describe('concurrencyLimit', () => {
  it('runs at most max at a time and hands a released slot to the next waiter', async () => {
    const slots = concurrencyLimit(2, 5_000);
    const first = await slots.acquire();
    await slots.acquire();
    let thirdStarted = false;
    const third = slots.acquire().then((release) => {
      thirdStarted = true;
      return release;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(thirdStarted).toBe(false);
    first();
    (await third)();
    expect(thirdStarted).toBe(true);
  });

  it('lets a waiter give up after waitMs', async () => {
    const slots = concurrencyLimit(1, 20);
    const held = await slots.acquire();
    await expect(slots.acquire()).rejects.toThrow(
      new FetchFailed('busy: all 1 HTML conversion slots are in use; retry shortly or use raw: true'),
    );
    held();
    const again = await slots.acquire(); // the timed-out waiter left the queue, so the slot is free
    again();
  });
});
