// Malformed request bodies for the dialects' fuzz tests: seeded mutations of a valid body
// (fields removed, given the wrong type, nested values broken) plus bodies that are not JSON
// objects at all. Deterministic, so a failure names a body that can be replayed.

const WRONG_VALUES: readonly unknown[] = [null, 0, -1, 1e308, 'x', '', true, [], {}, [1, 'a'], { type: 'bogus' }, 'a'.repeat(300)];

export const NOT_OBJECTS: readonly string[] = ['', '{', 'null', '[]', '"text"', '42', '{"model": }', '{"a":1}{"b":2}', '\u0000'];

export function* malformedBodies(valid: Record<string, unknown>, count: number, seed = 1): Generator<string> {
  let state = seed >>> 0 || 1;
  const random = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
  for (const text of NOT_OBJECTS) yield text;
  for (let i = 0; i < count; i++) {
    const body = structuredClone(valid);
    const paths = leafPaths(body);
    const path = paths[random(paths.length)]!;
    const mode = random(3);
    if (mode === 0) remove(body, path);
    else set(body, path, WRONG_VALUES[random(WRONG_VALUES.length)]);
    if (mode === 2) {
      // and a second mutation elsewhere
      const other = paths[random(paths.length)]!;
      set(body, other, WRONG_VALUES[random(WRONG_VALUES.length)]);
    }
    yield JSON.stringify(body);
  }
}

type Path = (string | number)[];

function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  const paths: Path[] = prefix.length > 0 ? [prefix] : [];
  for (const [key, child] of entries) paths.push(...leafPaths(child, [...prefix, key]));
  return paths;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> | undefined {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) return undefined;
    node = next as Record<string | number, unknown>;
  }
  return node;
}

function remove(root: unknown, path: Path): void {
  const parent = parentOf(root, path);
  const key = path.at(-1)!;
  if (parent === undefined) return;
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
}

function set(root: unknown, path: Path, value: unknown): void {
  const parent = parentOf(root, path);
  if (parent !== undefined) parent[path.at(-1)!] = value;
}
