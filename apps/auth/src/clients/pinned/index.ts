import { CLAUDE_AI } from './claude-ai';
import { GOOSE } from './goose';
import type { PinnedDocument } from './pinned-document';

export type { PinnedDocument } from './pinned-document';

/**
 * The pinned documents by client_id. ChatGPT (`https://chatgpt.com/oauth/<id>/client.json`, one per connector)
 * and VS Code (a document on vscode.dev) are not pinned: their exact URLs vary or are not published, and both
 * fetch fine from cloud hosts.
 */
export const PINNED_DOCUMENTS: ReadonlyMap<string, PinnedDocument> = new Map(
  [CLAUDE_AI, GOOSE].map((pinned) => [pinned.document.client_id, pinned]),
);
