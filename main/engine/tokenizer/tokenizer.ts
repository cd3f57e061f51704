// The tokenizer of a GGUF model: byte-level BPE (`gpt2`) or SentencePiece (`llama`), built from
// the file's `tokenizer.*` metadata and behaving like llama.cpp's llama_tokenize/token_to_piece.

import type { GGUFMetadata } from '../gguf/types.js';
import { fromByteLevel } from './byte-level.js';
import { BpeEncoder } from './bpe.js';
import { PieceTable } from './piece-table.js';
import { preTokenizerFor } from './pre-tokenizer.js';
import { SpecialTokenSplitter } from './special-tokens.js';
import { SpmEncoder } from './spm.js';
import { createStreamingDecoder, type StreamingDecoder } from './streaming-decoder.js';
import { END_OF_GENERATION_TEXTS, LLAMA3_PRE_NAMES, TokenType, readVocab, type Vocab } from './vocab.js';

export interface EncodeOptions {
  /** Put the BOS token first. Default: the model's `tokenizer.ggml.add_bos_token`. Never doubled. */
  addBos?: boolean;
  /** Turn control-token text such as `<|im_start|>` into its token (for rendered chat prompts). Default false. */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Render control tokens as their text (`<|im_end|>`). Default false: they decode to nothing. */
  special?: boolean;
}

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

export class Tokenizer {
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** Tokens that end generation: EOS plus end-of-turn/message tokens (`<|im_end|>`, `<|eot_id|>`, `<|eom_id|>`, ...). */
  readonly eosIds: ReadonlySet<number>;
  readonly vocabSize: number;

  private readonly vocab: Vocab;
  private readonly splitter: SpecialTokenSplitter;
  private readonly bpe: BpeEncoder | undefined;
  private readonly spm: SpmEncoder | undefined;
  /** Bytes each token stands for when rendered as text (control tokens: their text). */
  private readonly pieces: PieceTable;

  constructor(metadata: GGUFMetadata) {
    const vocab = readVocab(metadata);
    this.vocab = vocab;
    this.vocabSize = vocab.tokens.length;
    this.bosId = vocab.bosId;
    this.eosId = vocab.eosId;
    this.splitter = new SpecialTokenSplitter(vocab);
    if (vocab.kind === 'bpe') {
      const pre = vocab.pre ?? 'default';
      this.bpe = new BpeEncoder(vocab, preTokenizerFor(pre), LLAMA3_PRE_NAMES.has(pre));
    } else {
      this.spm = new SpmEncoder(vocab);
    }
    this.pieces = new PieceTable(vocab.tokens.length, (id) => this.computePieceBytes(vocab.tokens[id]!, vocab.types[id]!));

    const eos = new Set<number>();
    if (vocab.eosId !== undefined) eos.add(vocab.eosId);
    for (const text of END_OF_GENERATION_TEXTS) {
      const id = vocab.ids.get(text);
      if (id !== undefined) eos.add(id);
    }
    this.eosIds = eos;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const output: number[] = [];
    const fragments = this.splitter.split(text, options.parseSpecial ?? false);
    const addBos = (options.addBos ?? this.vocab.addBos) && this.bosId !== undefined;
    if (addBos && !(fragments[0]?.kind === 'token' && fragments[0].id === this.bosId)) output.push(this.bosId!);

    // SentencePiece puts a space before text that starts the input or follows a special token.
    let afterSpecial = true;
    for (const fragment of fragments) {
      if (fragment.kind === 'token') {
        output.push(fragment.id);
        afterSpecial = true;
        continue;
      }
      if (this.bpe !== undefined) this.bpe.encode(fragment.text, output);
      else this.spm!.encode(fragment.text, this.vocab.addSpacePrefix && afterSpecial, output);
      afterSpecial = false;
    }
    return output;
  }

  /** The bytes a token adds to the text; empty for control tokens unless `special`. */
  tokenBytes(id: number, options: DecodeOptions = {}): Uint8Array {
    const type = this.vocab.types[id];
    if (type === undefined) return EMPTY;
    if (!options.special && (type === TokenType.CONTROL || type === TokenType.UNKNOWN)) return EMPTY;
    return this.pieces.piece(id);
  }

  /** One token as text; a token holding part of a UTF-8 character shows U+FFFD (use a streaming decoder for output). */
  tokenToPiece(id: number, options: DecodeOptions = {}): string {
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(this.tokenBytes(id, options));
  }

  /** The vocabulary's own spelling of a token (`Ġhello`, `▁hello`, `<|im_end|>`). */
  tokenText(id: number): string | undefined {
    return this.vocab.tokens[id];
  }

  tokenId(text: string): number | undefined {
    return this.vocab.ids.get(text);
  }

  decode(ids: Iterable<number>, options: DecodeOptions = {}): string {
    const parts: Uint8Array[] = [];
    let total = 0;
    let first = true;
    for (const id of ids) {
      let bytes = this.tokenBytes(id, options);
      // SentencePiece's space before the first word is not part of the text.
      if (first && this.vocab.addSpacePrefix && this.vocab.types[id] === TokenType.NORMAL && bytes[0] === 0x20) {
        bytes = bytes.subarray(1);
      }
      if (id !== this.bosId || bytes.length > 0) first = false;
      parts.push(bytes);
      total += bytes.length;
    }
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(joined);
  }

  /** A decoder for generated tokens that never splits a UTF-8 character across pushes. */
  createDecoder(options: DecodeOptions = {}): StreamingDecoder {
    return createStreamingDecoder((id) => this.tokenBytes(id, options));
  }

  isControl(id: number): boolean {
    return this.vocab.types[id] === TokenType.CONTROL;
  }

  isEndOfGeneration(id: number): boolean {
    return this.eosIds.has(id);
  }

  private computePieceBytes(text: string, type: number): Uint8Array {
    switch (type) {
      case TokenType.NORMAL:
        if (this.vocab.kind === 'spm') return utf8.encode(text.replaceAll('\u2581', ' '));
        return fromByteLevel(text) ?? utf8.encode(text);
      case TokenType.BYTE: {
        const match = /^<0x([0-9A-Fa-f]{2})>$/.exec(text);
        return match ? Uint8Array.of(parseInt(match[1]!, 16)) : utf8.encode(text);
      }
      case TokenType.CONTROL:
      case TokenType.USER_DEFINED:
      case TokenType.UNKNOWN:
        return utf8.encode(text);
      default:
        // Unused and undefined tokens (`[PAD151700]`) render as nothing, as in llama.cpp.
        return EMPTY;
    }
  }
}
