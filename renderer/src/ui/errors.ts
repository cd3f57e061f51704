// One way to turn a failure into the sentence a page shows.
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
