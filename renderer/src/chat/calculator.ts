// The calculator demo tool: + - * / ^ %, parentheses and unary minus over decimal numbers, by a
// small recursive-descent parser (the UI's CSP forbids eval, and eval would be wrong anyway).

export function calculate(expression: string): number {
  const tokens = expression.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|\.\d+|[-+*/^%()]|\S/gi) ?? [];
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];

  const primary = (): number => {
    const token = take();
    if (token === '(') {
      const value = sum();
      if (take() !== ')') throw new Error('missing )');
      return value;
    }
    if (token === '-') return -primary();
    if (token === '+') return primary();
    if (token !== undefined && /^[\d.]/.test(token)) return Number(token);
    throw new Error(token === undefined ? 'unexpected end' : `unexpected "${token}"`);
  };
  const power = (): number => {
    const base = primary();
    if (peek() === '^') {
      take();
      return base ** power(); // right-associative
    }
    return base;
  };
  const product = (): number => {
    let value = power();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const operator = take();
      const right = power();
      value = operator === '*' ? value * right : operator === '/' ? value / right : value % right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') {
      const operator = take();
      const right = product();
      value = operator === '+' ? value + right : value - right;
    }
    return value;
  };

  const value = sum();
  if (position < tokens.length) throw new Error(`unexpected "${tokens[position]}"`);
  return value;
}
