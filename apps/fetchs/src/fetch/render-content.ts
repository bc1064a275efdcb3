import type { CallToolResult } from '@modelcontextprotocol/server';
import type { HtmlConverter } from './html-converter';
import type { FetchedResponse } from './http-fetcher';

export interface RenderOptions {
  /** Characters returned per call. */
  readonly maxLength: number;
  /** Character offset to start from (paging through long documents). */
  readonly startIndex: number;
  /** Return the text as received (no HTML → Markdown). */
  readonly raw: boolean;
  /** For the truncation note. */
  readonly maxBytes: number;
  readonly toMarkdown: HtmlConverter;
}

const TEXT_TYPES =
  /^(text\/.*|application\/(json|xml|javascript|ecmascript|x-javascript|x-ndjson|[\w.+-]+\+(json|xml))|image\/svg\+xml)$/;
const HTML_TYPES = /^(text\/html|application\/xhtml\+xml)$/;

/** A tool result for the caller's mistake or a refusal: MCP tools report failures in the result (isError). */
export function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** Turns a fetched response into tool content: Markdown or text (one page of it), or an image. */
export async function renderContent(
  response: FetchedResponse,
  method: string,
  options: RenderOptions,
): Promise<CallToolResult> {
  const contentType = (response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (method === 'HEAD')
    return { content: [{ type: 'text', text: headSummary(response) }], isError: response.status >= 400 };
  if (contentType.startsWith('image/') && contentType !== 'image/svg+xml') {
    if (response.truncated)
      return errorResult(`the image at ${response.url} is larger than FETCH_MAX_BYTES (${options.maxBytes} bytes)`);
    if (response.status >= 400) return errorResult(`HTTP ${response.status} from ${response.url}`);
    return { content: [{ type: 'image', data: response.body.toString('base64'), mimeType: contentType }] };
  }
  if (contentType && !TEXT_TYPES.test(contentType)) {
    return errorResult(
      `${response.url} answered ${contentType} (${response.body.length} bytes); fetchs returns text, HTML and images only`,
    );
  }
  const text = decode(response.body, response.headers['content-type']);
  const document =
    HTML_TYPES.test(contentType) && !options.raw ? await markdownOf(text, response.url, options.toMarkdown) : text;
  if (options.startIndex > 0 && options.startIndex >= document.length) {
    return errorResult(
      `start_index ${options.startIndex} is past the end of the content (${document.length} characters)`,
    );
  }
  const page = pageOf(document, response, options);
  if (response.status >= 400) return errorResult(`HTTP ${response.status} from ${response.url}\n\n${page}`);
  return { content: [{ type: 'text', text: page }] };
}

async function markdownOf(html: string, url: string, toMarkdown: HtmlConverter): Promise<string> {
  const { title, markdown } = await toMarkdown(html, url);
  return title ? `# ${title}\n\n${markdown}` : markdown;
}

function pageOf(
  document: string,
  response: FetchedResponse,
  { maxLength, startIndex, maxBytes }: RenderOptions,
): string {
  const end = Math.min(document.length, startIndex + maxLength);
  const notes: string[] = [];
  if (end < document.length) {
    notes.push(
      `Content truncated: characters ${startIndex}-${end} of ${document.length} shown. Call fetch with start_index=${end} for more.`,
    );
  }
  if (response.truncated)
    notes.push(`The response was cut at FETCH_MAX_BYTES (${maxBytes} bytes); the rest was not downloaded.`);
  const body = document.slice(startIndex, end);
  return notes.length === 0 ? body : `${body}\n\n${notes.map((note) => `<note>${note}</note>`).join('\n')}`;
}

function headSummary(response: FetchedResponse): string {
  const lines = Object.entries(response.headers).map(([name, value]) => `${name}: ${value}`);
  return [`HTTP ${response.status} ${response.url}`, ...lines].join('\n');
}

function decode(body: Buffer, contentType: string | undefined): string {
  const charset = /charset="?([\w.:-]+)"?/i.exec(contentType ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body); // unknown charset label
  }
}
