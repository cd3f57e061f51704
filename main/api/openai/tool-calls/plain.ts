// No tools in the request: the text is the content, unchanged.

import type { ToolCallFormat } from './types.js';

export const plainFormat: ToolCallFormat = {
  name: 'plain',
  parse: (text) => ({ content: text, reasoning: '', toolCalls: [] }),
  startStream: () => ({ push: (piece) => ({ content: piece, calls: [] }) }),
};
