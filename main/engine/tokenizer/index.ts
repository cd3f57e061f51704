export { Tokenizer, type EncodeOptions, type DecodeOptions } from './tokenizer.js';
export type { StreamingDecoder } from './streaming-decoder.js';
export { TokenType, readVocab, type Vocab } from './vocab.js';
export { ChatTemplate, CHATML_TEMPLATE, type ChatMessage, type ChatTool, type ChatToolCall, type ChatRenderInput } from './chat-template.js';
export { tokenizerMetadataFromHF, loadHFTokenizerFiles, type FromHFOptions, type HFTokenizerFiles } from './from-hf.js';
