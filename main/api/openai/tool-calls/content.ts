// The visible text around tool calls: trimmed, and while streaming, with anything that could
// still become a marker (or trailing whitespace that may turn out to end the content) held back.

import { pendingMarkerLength, trailingWhitespaceLength } from './hold-back.js';

export function visibleContent(raw: string, isPartial: boolean, markers: readonly string[]): string {
  if (!isPartial) return raw.trim();
  let shown = raw.slice(0, raw.length - pendingMarkerLength(raw, markers));
  shown = shown.slice(0, shown.length - trailingWhitespaceLength(shown));
  return shown.trimStart();
}
