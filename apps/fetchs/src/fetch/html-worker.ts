import { parentPort, workerData } from 'node:worker_threads';
import { htmlToMarkdown } from './html-to-markdown';

/** Worker entry: converts one page (see convertHtml in html-converter.ts) and posts the result. */
const { html, url } = workerData as { html: string; url: string };
parentPort?.postMessage(htmlToMarkdown(html, url));
