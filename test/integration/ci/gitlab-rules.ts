// GitLab's `rules: if:` expressions, as far as recipes use them: $VAR, "strings", null, /regex/,
// ==, !=, =~, !~, &&, || and parentheses. Pure. GitLab's regexes are RE2; the ones a recipe
// writes for tags (^, $, \d, classes, quantifiers) mean the same in JavaScript.

type Value = string | null | RegExp | boolean;
type Token = { kind: 'var' | 'string' | 'regex' | 'null' | 'op' | 'paren'; text: string; flags?: string };

const OPERATORS = ['==', '!=', '=~', '!~', '&&', '||'];

export class RuleError extends Error {}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const two = source.slice(i, i + 2);
    if (OPERATORS.includes(two)) { tokens.push({ kind: 'op', text: two }); i += 2; continue; }
    if (c === '(' || c === ')') { tokens.push({ kind: 'paren', text: c }); i++; continue; }
    if (c === '$') {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(source.slice(i));
      if (!m) throw new RuleError(`a variable name after $ at ${i} in: ${source}`);
      tokens.push({ kind: 'var', text: m[1] ?? m[2]! });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = source.indexOf(c, i + 1);
      if (end < 0) throw new RuleError(`an unterminated string at ${i} in: ${source}`);
      tokens.push({ kind: 'string', text: source.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (c === '/' && tokens.at(-1)?.kind === 'op' && ['=~', '!~'].includes(tokens.at(-1)!.text)) {
      let j = i + 1;
      while (j < source.length && source[j] !== '/') j += source[j] === '\\' ? 2 : 1;
      if (j >= source.length) throw new RuleError(`an unterminated regex at ${i} in: ${source}`);
      const flags = /^[a-z]*/.exec(source.slice(j + 1))![0];
      if (flags.replace('i', '') !== '') throw new RuleError(`regex flags ${flags}: only i is simulated`);
      tokens.push({ kind: 'regex', text: source.slice(i + 1, j), flags });
      i = j + 1 + flags.length;
      continue;
    }
    if (source.startsWith('null', i) && !/[A-Za-z0-9_]/.test(source[i + 4] ?? '')) { tokens.push({ kind: 'null', text: 'null' }); i += 4; continue; }
    throw new RuleError(`unexpected ${JSON.stringify(c)} at ${i} in: ${source}`);
  }
  return tokens;
}

const truthy = (v: Value): boolean => (typeof v === 'boolean' ? v : v instanceof RegExp ? true : v !== null && v !== '');

/** Evaluates one `if:` against the job's variables; an undefined variable is null, as in GitLab. */
export function evaluateRule(source: string, variables: Record<string, string>): boolean {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos];
  const operand = (): Value => {
    const t = tokens[pos++];
    if (!t) throw new RuleError(`an operand missing at the end of: ${source}`);
    if (t.kind === 'paren' && t.text === '(') {
      const v = or();
      if (tokens[pos++]?.text !== ')') throw new RuleError(`a ) missing in: ${source}`);
      return v;
    }
    if (t.kind === 'var') return Object.hasOwn(variables, t.text) ? variables[t.text]! : null;
    if (t.kind === 'string') return t.text;
    if (t.kind === 'null') return null;
    if (t.kind === 'regex') return new RegExp(t.text, t.flags);
    throw new RuleError(`unexpected ${t.text} in: ${source}`);
  };
  const comparison = (): Value => {
    const left = operand();
    const op = peek();
    if (op?.kind !== 'op' || !['==', '!=', '=~', '!~'].includes(op.text)) return left;
    pos++;
    const right = operand();
    if (op.text === '==' || op.text === '!=') {
      if (left instanceof RegExp || right instanceof RegExp) throw new RuleError(`${op.text} compares strings and null, not a regex, in: ${source}`);
      return (left === right) === (op.text === '==');
    }
    if (!(right instanceof RegExp)) throw new RuleError(`${op.text} needs a /regex/ on its right in: ${source}`);
    const matched = typeof left === 'string' && right.test(left);
    return op.text === '=~' ? matched : !matched;
  };
  const and = (): Value => {
    let v = comparison();
    while (peek()?.text === '&&') { pos++; const r = comparison(); v = truthy(v) && truthy(r); }
    return v;
  };
  function or(): Value {
    let v = and();
    while (peek()?.text === '||') { pos++; const r = and(); v = truthy(v) || truthy(r); }
    return v;
  }
  const result = or();
  if (pos !== tokens.length) throw new RuleError(`unexpected ${tokens[pos]!.text} in: ${source}`);
  return truthy(result);
}
