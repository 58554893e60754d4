// Cell values: numbers, text, and formulas ("=A1*2+SUM(B1:B3)") with cell
// references, ranges, + - * / ^, parentheses and SUM, AVERAGE, MIN, MAX,
// COUNT, ABS, ROUND. Every cell is computed from the raw contents alone, in
// IEEE double arithmetic (the same on every host), with cycles and bad
// references as error values.
import { COLS, ROWS, type Cell } from './state.js';

export type Value =
  { kind: 'number'; n: number } | { kind: 'text'; s: string } | { kind: 'empty' } | { kind: 'error'; e: string };

const EMPTY: Value = { kind: 'empty' };
const err = (e: string): Value => ({ kind: 'error', e });
const num = (n: number): Value => (Number.isFinite(n) ? { kind: 'number', n } : err('#NUM!'));

/** Operators and parentheses nested in one formula. */
const MAX_NESTING = 64;
/** References followed from one cell before giving up (same reason). */
const MAX_CHAIN = 200;

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

type Token = { t: 'num'; v: number } | { t: 'ref'; c: Cell } | { t: 'name'; v: string } | { t: 'op'; v: string };

class FormulaError extends Error {}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(\d+\.?\d*(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?)|([A-Za-z]+)(\d+)?|([-+*/^():,]))/gy;
  let at = 0;
  while (at < src.length) {
    if (/^\s*$/.test(src.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(src);
    if (!m) throw new FormulaError('#ERR!');
    at = re.lastIndex;
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]) });
    else if (m[2] !== undefined && m[3] !== undefined) {
      const letters = m[2].toUpperCase();
      const row = Number(m[3]) - 1;
      if (letters.length !== 1 || row < 0 || row >= ROWS) throw new FormulaError('#REF!');
      out.push({ t: 'ref', c: { col: letters.charCodeAt(0) - 65, row } });
    } else if (m[2] !== undefined) out.push({ t: 'name', v: m[2].toUpperCase() });
    else out.push({ t: 'op', v: m[4] ?? '' });
  }
  return out;
}

type Arg = Value | Value[];

const FUNCTIONS: Readonly<Record<string, (args: Arg[]) => Value>> = {
  SUM: (args) => fold(args, 0, (a, b) => a + b),
  MIN: (args) => (numbers(args).length === 0 ? num(0) : fold(args, Infinity, (a, b) => Math.min(a, b))),
  MAX: (args) => (numbers(args).length === 0 ? num(0) : fold(args, -Infinity, (a, b) => Math.max(a, b))),
  COUNT: (args) => num(numbers(args).length),
  AVERAGE: (args) => {
    const ns = numbers(args);
    const firstError = flat(args).find((v) => v.kind === 'error');
    if (firstError) return firstError;
    return ns.length === 0 ? err('#DIV/0!') : num(ns.reduce((a, b) => a + b, 0) / ns.length);
  },
  ABS: (args) => unary(args, Math.abs),
  ROUND: (args) => {
    if (args.length < 1 || args.length > 2) return err('#ERR!');
    const x = toNumber(args[0] as Arg);
    const d = args.length === 2 ? toNumber(args[1] as Arg) : num(0);
    if (x.kind !== 'number') return x;
    if (d.kind !== 'number') return d;
    const f = 10 ** Math.max(-12, Math.min(12, Math.trunc(d.n)));
    return num((Math.sign(x.n) * Math.round(Math.abs(x.n) * f)) / f);
  },
};

const flat = (args: Arg[]): Value[] => args.flatMap((a) => (Array.isArray(a) ? a : [a]));
const numbers = (args: Arg[]): number[] => flat(args).flatMap((v) => (v.kind === 'number' ? [v.n] : []));

function fold(args: Arg[], start: number, f: (a: number, b: number) => number): Value {
  const firstError = flat(args).find((v) => v.kind === 'error');
  return firstError ?? num(numbers(args).reduce(f, start));
}

function unary(args: Arg[], f: (x: number) => number): Value {
  if (args.length !== 1) return err('#ERR!');
  const x = toNumber(args[0] as Arg);
  return x.kind === 'number' ? num(f(x.n)) : x;
}

function toNumber(a: Arg): Value {
  if (Array.isArray(a)) return err('#VALUE!');
  if (a.kind === 'empty') return num(0);
  if (a.kind === 'text') return err('#VALUE!');
  return a;
}

/** Evaluates one formula body (without "="); `get` computes referenced cells. */
function evaluate(src: string, get: (c: Cell) => Value): Value {
  let tokens: Token[];
  try {
    tokens = tokenize(src);
  } catch (e) {
    if (e instanceof FormulaError) return err(e.message);
    throw e;
  }
  let i = 0;
  // Bounded nesting: a stack overflow would depend on the host's stack size.
  let depth = 0;
  const nest = (): void => {
    if (++depth > MAX_NESTING) throw new FormulaError('#ERR!');
  };
  const peek = (): Token | undefined => tokens[i];
  const isOp = (v: string): boolean => {
    const t = peek();
    return t !== undefined && t.t === 'op' && t.v === v;
  };
  const expect = (v: string): void => {
    if (!isOp(v)) throw new FormulaError('#ERR!');
    i++;
  };
  const binary = (a: Value, b: Value, f: (x: number, y: number) => number): Value => {
    const x = toNumber(a);
    const y = toNumber(b);
    if (x.kind !== 'number') return x;
    if (y.kind !== 'number') return y;
    return num(f(x.n, y.n));
  };
  const expr = (): Value => {
    let v = term();
    while (isOp('+') || isOp('-')) {
      const op = (tokens[i++] as { v: string }).v;
      const r = term();
      v = binary(v, r, op === '+' ? (a, b) => a + b : (a, b) => a - b);
    }
    return v;
  };
  const term = (): Value => {
    let v = power();
    while (isOp('*') || isOp('/')) {
      const op = (tokens[i++] as { v: string }).v;
      const r = power();
      if (op === '/') {
        const d = toNumber(r);
        v = d.kind === 'number' && d.n === 0 ? err('#DIV/0!') : binary(v, r, (a, b) => a / b);
      } else v = binary(v, r, (a, b) => a * b);
    }
    return v;
  };
  const power = (): Value => {
    const base = unaryOp();
    if (!isOp('^')) return base;
    i++;
    return binary(base, power(), (a, b) => a ** b);
  };
  const unaryOp = (): Value => {
    nest();
    if (isOp('-')) {
      i++;
      return binary(num(0), unaryOp(), (a, b) => a - b);
    }
    if (isOp('+')) {
      i++;
      return toNumber(unaryOp());
    }
    return primary();
  };
  const range = (from: Cell): Value[] => {
    i++; // ':'
    const to = tokens[i++];
    if (!to || to.t !== 'ref') throw new FormulaError('#REF!');
    const out: Value[] = [];
    for (let r = Math.min(from.row, to.c.row); r <= Math.max(from.row, to.c.row); r++)
      for (let c = Math.min(from.col, to.c.col); c <= Math.max(from.col, to.c.col); c++)
        out.push(get({ col: c, row: r }));
    return out;
  };
  const primary = (): Value => {
    const t = tokens[i++];
    if (!t) throw new FormulaError('#ERR!');
    if (t.t === 'num') return num(t.v);
    if (t.t === 'ref') {
      if (isOp(':')) throw new FormulaError('#VALUE!'); // a range outside a function
      return get(t.c);
    }
    if (t.t === 'name') {
      const f = FUNCTIONS[t.v];
      if (!f) throw new FormulaError('#NAME?');
      expect('(');
      const args: Arg[] = [];
      if (!isOp(')')) {
        for (;;) {
          const a = peek();
          if (a?.t === 'ref' && tokens[i + 1]?.t === 'op' && (tokens[i + 1] as { v: string }).v === ':') {
            i++;
            args.push(range(a.c));
          } else args.push(expr());
          if (!isOp(',')) break;
          i++;
        }
      }
      expect(')');
      return f(args);
    }
    if (t.v === '(') {
      const v = expr();
      expect(')');
      return v;
    }
    throw new FormulaError('#ERR!');
  };
  try {
    const v = expr();
    if (i !== tokens.length) return err('#ERR!');
    return v;
  } catch (e) {
    if (e instanceof FormulaError) return err(e.message);
    throw e;
  }
}

/** Every cell's value, computed from raw contents (memoised, cycles are #CYCLE!). */
export function computeAll(cells: ReadonlyMap<number, string>): Map<number, Value> {
  const values = new Map<number, Value>();
  const visiting = new Set<number>();
  const get = (c: Cell): Value => {
    if (c.col < 0 || c.col >= COLS || c.row < 0 || c.row >= ROWS) return err('#REF!');
    const key = c.row * COLS + c.col;
    const known = values.get(key);
    if (known) return known;
    const raw = cells.get(key);
    if (raw === undefined) return EMPTY;
    if (visiting.has(key)) return err('#CYCLE!');
    if (visiting.size >= MAX_CHAIN) return err('#DEPTH!');
    visiting.add(key);
    let v: Value;
    if (raw.startsWith('=')) v = evaluate(raw.slice(1), get);
    else if (NUMBER.test(raw.trim())) v = num(Number(raw.trim()));
    else v = { kind: 'text', s: raw };
    visiting.delete(key);
    values.set(key, v);
    return v;
  };
  for (const key of [...cells.keys()].sort((a, b) => a - b)) get({ col: key % COLS, row: Math.floor(key / COLS) });
  return values;
}

/** What a cell shows: numbers with at most 12 significant digits. */
export function display(v: Value | undefined): string {
  if (!v) return '';
  switch (v.kind) {
    case 'number':
      return String(Number(v.n.toPrecision(12)));
    case 'text':
      return v.s;
    case 'empty':
      return '';
    case 'error':
      return v.e;
  }
}
