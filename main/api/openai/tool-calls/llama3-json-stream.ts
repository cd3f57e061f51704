// Llama 3 JSON tool calls read piece by piece: the same partial parse as llama3JsonFormat.parse.
// Until the first call is complete the whole text is kept, since a first object that turns out
// not to be a call makes the whole answer content.

import { skipWhitespace } from './call-object.js';
import { CallObjectStream } from './call-object-stream.js';
import type { CallUpdate, FormatStep, FormatStream } from './types.js';
import { VisibleText } from './visible-text.js';

export const PYTHON_TAG = '<|python_tag|>';

type State =
  /** Nothing but whitespace and perhaps part of <|python_tag|> yet. */
  | { readonly kind: 'start' }
  /** After the optional tag, waiting for the first non-space character. */
  | { readonly kind: 'body'; readonly text: string }
  /** A call object being written (and whatever follows it). */
  | { readonly kind: 'call'; readonly reader: CallObjectStream }
  /** After a complete call: whitespace, perhaps ';', until the next '{'. */
  | { readonly kind: 'between'; readonly text: string }
  /** Not a call: the whole answer is content. */
  | { readonly kind: 'content' }
  /** Calls were read and what follows is not one: it is dropped. */
  | { readonly kind: 'ignored' };

export class Llama3JsonStream implements FormatStream {
  private readonly content = new VisibleText();
  private state: State = { kind: 'start' };
  /** The whole text while it may still all become content (until the first call is complete). */
  private whole = '';
  private completedCalls = 0;

  push(piece: string): FormatStep {
    const calls: CallUpdate[] = [];
    if (this.completedCalls === 0) this.whole += piece;
    let input = piece;
    for (;;) {
      const state = this.state;
      switch (state.kind) {
        case 'start': {
          const trimmed = this.whole.trimStart();
          if (trimmed.startsWith(PYTHON_TAG)) this.state = { kind: 'body', text: trimmed.slice(PYTHON_TAG.length) };
          else if (PYTHON_TAG.startsWith(trimmed)) return { content: '', calls };
          else this.state = { kind: 'body', text: trimmed };
          input = '';
          continue;
        }
        case 'body': {
          const text = state.text + input;
          const position = skipWhitespace(text, 0);
          if (position >= text.length) {
            this.state = { kind: 'body', text };
            return { content: '', calls };
          }
          if (text[position] !== '{') return this.becomeContent(calls);
          this.state = { kind: 'call', reader: new CallObjectStream() };
          input = text.slice(position);
          continue;
        }
        case 'call': {
          const call = state.reader.push(input);
          if (call.status === 'invalid') {
            if (this.completedCalls === 0) return this.becomeContent(calls);
            this.state = { kind: 'ignored' };
            return { content: '', calls };
          }
          if (call.status === 'partial') {
            if (call.call !== undefined) calls.push(CallObjectStream.update(this.completedCalls, call.call, call.argumentsGrowth));
            return { content: '', calls };
          }
          calls.push(CallObjectStream.update(this.completedCalls++, call.call, call.argumentsGrowth));
          this.whole = '';
          this.state = { kind: 'between', text: '' };
          input = call.rest;
          continue;
        }
        case 'between': {
          const text = state.text + input;
          let position = skipWhitespace(text, 0);
          if (text[position] === ';') position = skipWhitespace(text, position + 1);
          if (position >= text.length) {
            this.state = { kind: 'between', text };
            return { content: '', calls };
          }
          if (text[position] !== '{') {
            this.state = { kind: 'ignored' };
            return { content: '', calls };
          }
          this.state = { kind: 'call', reader: new CallObjectStream() };
          input = text.slice(position);
          continue;
        }
        case 'content':
          this.content.commit(input);
          return { content: this.content.take([]), calls };
        case 'ignored':
          return { content: '', calls };
      }
    }
  }

  private becomeContent(calls: CallUpdate[]): FormatStep {
    this.state = { kind: 'content' };
    this.content.commit(this.whole);
    this.whole = '';
    return { content: this.content.take([]), calls };
  }
}
