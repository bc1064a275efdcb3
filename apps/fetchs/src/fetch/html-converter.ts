import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FetchFailed } from './fetch-errors';

export type HtmlConverter = (html: string, url: string) => Promise<{ title?: string; markdown: string }>;

/**
 * HTML → Markdown in worker threads: at most one per CPU at a time (others wait for a slot up to
 * `timeoutMs`), each ended after `timeoutMs`. The conversion is pure CPU (about 10 s for 1 MB of HTML on
 * a busy 2-core machine), so on the main thread one large page would stall every other request, health
 * checks included; in workers the event loop stays free and both CPU time and memory stay bounded.
 */
export function workerHtmlConverter(timeoutMs: number, maxWorkers = availableParallelism()): HtmlConverter {
  const slots = concurrencyLimit(maxWorkers, timeoutMs);
  return async (html, url) => {
    const release = await slots.acquire();
    try {
      return await convertInWorker(html, url, timeoutMs);
    } finally {
      release();
    }
  };
}

/** A counting semaphore whose waiters give up after `waitMs` with a FetchFailed. */
export function concurrencyLimit(max: number, waitMs: number): { acquire(): Promise<() => void> } {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    running--;
    waiting.shift()?.();
  };
  return {
    acquire: () =>
      new Promise((resolve, reject) => {
        const start = (): void => {
          running++;
          resolve(release);
        };
        if (running < max) return start();
        const waiter = (): void => {
          clearTimeout(timer);
          start();
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(new FetchFailed(`busy: all ${max} HTML conversion slots are in use; retry shortly or use raw: true`));
        }, waitMs);
        waiting.push(waiter);
      }),
  };
}

function convertInWorker(html: string, url: string, timeoutMs: number): Promise<{ title?: string; markdown: string }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, 'html-worker.js'), { workerData: { html, url } });
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      worker.removeAllListeners();
      void worker.terminate();
      settle();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new FetchFailed(
              `converting the HTML took longer than ${timeoutMs} ms (FETCH_CONVERT_TIMEOUT_MS); raw: true returns it unconverted`,
            ),
          ),
        ),
      timeoutMs,
    );
    worker.once('message', (result: { title?: string; markdown: string }) => finish(() => resolve(result)));
    worker.once('error', (error) =>
      finish(() => reject(new FetchFailed(`converting the HTML failed: ${error.message}`))),
    );
    worker.once('exit', (code) =>
      finish(() => reject(new FetchFailed(`converting the HTML failed (worker exit ${code})`))),
    );
  });
}
