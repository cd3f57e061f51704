// Hermes / Qwen tool calls read piece by piece: the same partial parse as hermesFormat.parse,
// as a state machine that keeps only what is still undecided (a marker prefix, the call
// object being written, the text after a call until its closing tag shows).

import { skipWhitespace } from './call-object.js';
import { CallObjectStream } from './call-object-stream.js';
import { MarkerSearch } from './hold-back.js';
import type { CallUpdate, FormatStep, FormatStream } from './types.js';
import { VisibleText } from './visible-text.js';

export const HERMES_OPEN = '<tool_call>';
export const HERMES_CLOSE = '</tool_call>';

type State =
  /** Answer text, looking for the next <tool_call>. */
  | { readonly kind: 'content'; readonly search: MarkerSearch }
  /** Inside <tool_call>: the call object so far (its text kept in case it turns out not to be one). */
  | { readonly kind: 'call'; readonly reader: CallObjectStream; readonly text: string }
  /** After a complete call object: the text after it, leading whitespace dropped. */
  | { readonly kind: 'after-call'; readonly text: string }
  /** A <tool_call> that holds no call: everything from it on is answer text. */
  | { readonly kind: 'not-a-call' };

export class HermesStream implements FormatStream {
  private readonly content = new VisibleText();
  private state: State = { kind: 'content', search: new MarkerSearch(HERMES_OPEN) };
  private completedCalls = 0;

  push(piece: string): FormatStep {
    const calls: CallUpdate[] = [];
    let input = piece;
    for (;;) {
      const state = this.state;
      switch (state.kind) {
        case 'content': {
          const step = state.search.push(input);
          this.content.commit(step.settled);
          if (!step.found) {
            const markers = this.completedCalls === 0 ? [HERMES_OPEN] : [HERMES_OPEN, HERMES_CLOSE];
            return { content: this.content.take(markers, step.pending), calls };
          }
          this.state = { kind: 'call', reader: new CallObjectStream(), text: '' };
          input = step.after;
          continue;
        }
        case 'call': {
          const text = state.text + input;
          const call = state.reader.push(input);
          if (call.status === 'invalid') {
            // Not a call after all: the markup is the model's own text, and so is all that follows.
            this.content.commit(HERMES_OPEN + text);
            this.state = { kind: 'not-a-call' };
            return { content: this.content.take([]), calls };
          }
          if (call.status === 'partial') {
            this.state = { kind: 'call', reader: state.reader, text };
            if (call.call !== undefined) calls.push(CallObjectStream.update(this.completedCalls, call.call, call.argumentsGrowth));
            return { content: this.content.take([]), calls };
          }
          calls.push(CallObjectStream.update(this.completedCalls++, call.call, call.argumentsGrowth));
          this.state = { kind: 'after-call', text: '' };
          input = call.rest;
          continue;
        }
        case 'after-call': {
          const joined = state.text + input;
          const text = joined.slice(skipWhitespace(joined, 0));
          if (text.startsWith(HERMES_CLOSE)) {
            this.state = { kind: 'content', search: new MarkerSearch(HERMES_OPEN) };
            input = text.slice(HERMES_CLOSE.length);
            continue;
          }
          if (HERMES_CLOSE.startsWith(text)) {
            // The closing tag is still being written.
            this.state = { kind: 'after-call', text };
            return { content: this.content.take([]), calls };
          }
          // A call without its closing tag: accept it and read on.
          this.state = { kind: 'content', search: new MarkerSearch(HERMES_OPEN) };
          input = text;
          continue;
        }
        case 'not-a-call':
          this.content.commit(input);
          return { content: this.content.take([]), calls };
      }
    }
  }
}
