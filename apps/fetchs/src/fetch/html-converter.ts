import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FetchFailed } from './fetch-errors';

export type HtmlConverter = (html: string, url: string) => Promise<{ title?: string; markdown: string }>;

/**
 * HTML → Markdown in a worker thread, ended after `timeoutMs`. The conversion is pure CPU (about 10 s
 * for 1 MB of HTML on a busy 2-core machine), so on the main thread one large page would stall every
 * other request, health checks included; in a worker the event loop stays free and the CPU spent is bounded.
 */
export function workerHtmlConverter(timeoutMs: number): HtmlConverter {
  return (html, url) =>
    new Promise((resolve, reject) => {
      const worker = new Worker(join(__dirname, 'html-worker.js'), { workerData: { html, url } });
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        worker.removeAllListeners();
        void worker.terminate();
        settle();
      };
      const timer = setTimeout(
        () => finish(() => reject(new FetchFailed(`converting the HTML took longer than ${timeoutMs} ms (FETCH_CONVERT_TIMEOUT_MS); raw: true returns it unconverted`))),
        timeoutMs,
      );
      worker.once('message', (result: { title?: string; markdown: string }) => finish(() => resolve(result)));
      worker.once('error', (error) => finish(() => reject(new FetchFailed(`converting the HTML failed: ${error.message}`))));
      worker.once('exit', (code) => finish(() => reject(new FetchFailed(`converting the HTML failed (worker exit ${code})`))));
    });
}
