import type { FetchedResponse } from './http-fetcher';
import { htmlToMarkdown } from './html-to-markdown';
import { renderContent } from './render-content';

const OPTIONS = {
  maxLength: 5000,
  startIndex: 0,
  raw: false,
  maxBytes: 1000,
  toMarkdown: async (html: string, url: string) => htmlToMarkdown(html, url),
};

function response(contentType: string, body: Buffer | string, extra: Partial<FetchedResponse> = {}): FetchedResponse {
  return {
    url: 'http://site.example/x',
    status: 200,
    headers: { 'content-type': contentType },
    body: Buffer.from(body),
    truncated: false,
    ...extra,
  };
}

describe('renderContent', () => {
  it('decodes the declared charset', async () => {
    const result = await renderContent(
      response('text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9])),
      'GET',
      OPTIONS,
    );
    expect(result.content).toEqual([{ type: 'text', text: 'café' }]);
  });

  it('converts HTML to Markdown with its title unless raw', async () => {
    const html = '<html><head><title>T</title></head><body><p>Some <b>bold</b> text</p></body></html>';
    expect((await renderContent(response('text/html', html), 'GET', OPTIONS)).content[0]).toEqual({
      type: 'text',
      text: '# T\n\nSome **bold** text',
    });
    expect((await renderContent(response('text/html', html), 'GET', { ...OPTIONS, raw: true })).content[0]).toEqual({
      type: 'text',
      text: html,
    });
  });

  it('pages by characters and says where the next page starts', async () => {
    const result = await renderContent(response('text/plain', 'abcdefghij'), 'GET', {
      ...OPTIONS,
      maxLength: 4,
      startIndex: 2,
    });
    expect(result.content[0]).toEqual({
      type: 'text',
      text: 'cdef\n\n<note>Content truncated: characters 2-6 of 10 shown. Call fetch with start_index=6 for more.</note>',
    });
  });

  it('notes a body cut at FETCH_MAX_BYTES', async () => {
    const result = await renderContent(response('text/plain', 'abc', { truncated: true }), 'GET', OPTIONS);
    expect(result.content[0]).toMatchObject({ text: expect.stringContaining('cut at FETCH_MAX_BYTES (1000 bytes)') });
  });

  it('reports an HTTP error status as a tool error with the body', async () => {
    const result = await renderContent(response('text/plain', 'gone', { status: 404 }), 'GET', OPTIONS);
    expect(result).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'HTTP 404 from http://site.example/x\n\ngone' }],
    });
  });

  it('refuses a truncated image and binary types', async () => {
    expect(await renderContent(response('image/png', 'x', { truncated: true }), 'GET', OPTIONS)).toMatchObject({
      isError: true,
    });
    expect(await renderContent(response('application/pdf', '%PDF'), 'GET', OPTIONS)).toMatchObject({
      isError: true,
      content: [
        { text: 'http://site.example/x answered application/pdf (4 bytes); fetchs returns text, HTML and images only' },
      ],
    });
  });

  it('summarises a HEAD answer', async () => {
    expect((await renderContent(response('text/html', ''), 'HEAD', OPTIONS)).content[0]).toEqual({
      type: 'text',
      text: 'HTTP 200 http://site.example/x\ncontent-type: text/html',
    });
  });
});
