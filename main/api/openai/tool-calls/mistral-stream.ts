// Mistral tool calls read piece by piece: the same partial parse as mistralFormat.parse.

import { skipWhitespace } from './call-object.js';
import { CallObjectStream } from './call-object-stream.js';
import { MarkerSearch } from './hold-back.js';
import { JsonStreamScanner } from './json-stream-scanner.js';
import type { CallUpdate, FormatStep, FormatStream } from './types.js';
import { VisibleText } from './visible-text.js';

export const MISTRAL_MARKER = '[TOOL_CALLS]';
export const MISTRAL_ARGS = '[ARGS]';

type State =
  /** Answer text, looking for [TOOL_CALLS]. */
  | { readonly kind: 'content'; readonly search: MarkerSearch }
  /** After [TOOL_CALLS], waiting to see whether an array or a named call follows. */
  | { readonly kind: 'after-marker'; readonly text: string }
  /** v3: inside the array, before the next call object (or the closing bracket). */
  | { readonly kind: 'array-next'; readonly text: string }
  | { readonly kind: 'array-call'; readonly reader: CallObjectStream }
  /** After a complete call in the array, before its comma. */
  | { readonly kind: 'array-after'; readonly text: string }
  /** v11: a function name, up to [ARGS]. */
  | { readonly kind: 'named-name'; readonly search: MarkerSearch; readonly name: string }
  /** The arguments JSON after [ARGS]: `shown` is their text from the first non-space character. */
  | { readonly kind: 'named-arguments'; readonly name: string; readonly scanner: JsonStreamScanner; readonly read: number; readonly shown: string; readonly reported: boolean }
  /** After a named call's arguments: perhaps another [TOOL_CALLS], then the next name. */
  | { readonly kind: 'named-after'; readonly text: string }
  /** The calls have ended (or what follows is not one): the rest is ignored. */
  | { readonly kind: 'ended' };

export class MistralStream implements FormatStream {
  private readonly content = new VisibleText();
  private state: State = { kind: 'content', search: new MarkerSearch(MISTRAL_MARKER) };
  private markerSeen = false;
  private completedCalls = 0;

  push(piece: string): FormatStep {
    const calls: CallUpdate[] = [];
    const step = (): FormatStep => ({ content: this.markerSeen ? this.content.take([]) : '', calls });
    let input = piece;
    for (;;) {
      const state = this.state;
      switch (state.kind) {
        case 'content': {
          const found = state.search.push(input);
          this.content.commit(found.settled);
          if (!found.found) return { content: this.content.take([MISTRAL_MARKER], found.pending), calls };
          // The content is what came before the marker, from now on without hold-back.
          this.markerSeen = true;
          this.state = { kind: 'after-marker', text: '' };
          input = found.after;
          continue;
        }
        case 'after-marker': {
          const text = state.text + input;
          const position = skipWhitespace(text, 0);
          if (position >= text.length) {
            this.state = { kind: 'after-marker', text };
            return step();
          }
          if (text[position] === '[') {
            this.state = { kind: 'array-next', text: '' };
            input = text.slice(position + 1);
          } else {
            this.state = { kind: 'named-name', search: new MarkerSearch(MISTRAL_ARGS), name: '' };
            input = text.slice(position);
          }
          continue;
        }
        case 'array-next': {
          const text = state.text + input;
          const position = skipWhitespace(text, 0);
          if (position >= text.length) {
            this.state = { kind: 'array-next', text };
            return step();
          }
          if (text[position] === ']') {
            this.state = { kind: 'ended' };
            return step();
          }
          this.state = { kind: 'array-call', reader: new CallObjectStream() };
          input = text.slice(position);
          continue;
        }
        case 'array-call': {
          const call = state.reader.push(input);
          if (call.status === 'invalid') {
            this.state = { kind: 'ended' };
            return step();
          }
          if (call.status === 'partial') {
            if (call.call !== undefined) calls.push(CallObjectStream.update(this.completedCalls, call.call, call.argumentsGrowth));
            return step();
          }
          calls.push(CallObjectStream.update(this.completedCalls++, call.call, call.argumentsGrowth));
          this.state = { kind: 'array-after', text: '' };
          input = call.rest;
          continue;
        }
        case 'array-after': {
          const text = state.text + input;
          const position = skipWhitespace(text, 0);
          if (position >= text.length) {
            this.state = { kind: 'array-after', text };
            return step();
          }
          this.state = { kind: 'array-next', text: '' };
          input = text.slice(text[position] === ',' ? position + 1 : position);
          continue;
        }
        case 'named-name': {
          const found = state.search.push(input);
          const name = state.name + found.settled;
          if (!found.found) {
            this.state = { ...state, name };
            return step();
          }
          this.state = { kind: 'named-arguments', name: name.trim(), scanner: new JsonStreamScanner(), read: 0, shown: '', reported: false };
          input = found.after;
          continue;
        }
        case 'named-arguments': {
          const status = state.scanner.push(input);
          if (status === 'invalid') {
            this.state = { kind: 'ended' };
            return step();
          }
          const used = status === 'complete' ? state.scanner.end - state.read : input.length;
          let added = input.slice(0, used);
          if (state.shown === '') added = added.slice(skipWhitespace(added, 0));
          const shown = state.shown + added;
          const update = { index: this.completedCalls, call: { name: state.name, arguments: shown }, ...(state.reported ? { argumentsGrowth: added } : {}) };
          calls.push(update);
          if (status === 'partial') {
            this.state = { ...state, read: state.read + input.length, shown, reported: true };
            return step();
          }
          this.completedCalls++;
          this.state = { kind: 'named-after', text: '' };
          input = input.slice(used);
          continue;
        }
        case 'named-after': {
          const joined = state.text + input;
          const text = joined.slice(skipWhitespace(joined, 0));
          if (text.startsWith(MISTRAL_MARKER)) {
            this.state = { kind: 'named-name', search: new MarkerSearch(MISTRAL_ARGS), name: '' };
            input = text.slice(MISTRAL_MARKER.length);
            continue;
          }
          if (MISTRAL_MARKER.startsWith(text)) {
            // Perhaps another [TOOL_CALLS] before the next name: no name can be read yet either way.
            this.state = { kind: 'named-after', text };
            return step();
          }
          this.state = { kind: 'named-name', search: new MarkerSearch(MISTRAL_ARGS), name: '' };
          input = text;
          continue;
        }
        case 'ended':
          return step();
      }
    }
  }
}
