export { parseModelOutput, MessageStream } from './message-parser.js';
export type { MessageDelta, ToolCallDelta, IdentifiedToolCall, ParseOptions } from './message-parser.js';
export type { ParsedMessage, ParsedToolCall, ToolCallFormat } from './types.js';
export { toolCallFormatFor } from './select.js';
export { plainFormat } from './plain.js';
