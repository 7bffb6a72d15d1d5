/**
 * The subset of Stripe's search query language the customers search endpoint needs.
 *
 *   email:"a@b.com"  name~"ali"  -phone:"+1555"  metadata["plan"]:"pro"  created>1700000000
 *   clauses joined by AND or by OR (not both), string values in double quotes (\" and \\ escape).
 *
 * Stripe matches string fields by case-insensitive *word sequence*: both sides are split on
 * non-alphanumerics and the query's words must appear contiguously in the field's words. So
 * `email:"alice@example.com"` also matches `bob.alice@example.com` — callers must post-filter.
 */
import { invalidRequest } from './errors.js';

export type SearchOperator = ':' | '~' | '>' | '<' | '>=' | '<=';

export interface SearchClause {
  field: string;
  /** For `metadata["key"]`. */
  metadataKey?: string;
  operator: SearchOperator;
  value: string | number;
  negated: boolean;
}

export interface SearchQuery {
  joiner: 'AND' | 'OR';
  clauses: SearchClause[];
}

const syntaxError = (detail: string) =>
  invalidRequest(`Invalid search query: ${detail}. See https://stripe.com/docs/search#search-query-language for the supported syntax.`, {
    param: 'query',
  });

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(n = 1): string {
    return this.text.slice(this.pos, this.pos + n);
  }
  skipSpaces(): void {
    while (!this.done && /\s/.test(this.text[this.pos] ?? '')) this.pos += 1;
  }
  expect(s: string): void {
    if (this.peek(s.length) !== s) throw syntaxError(`expected '${s}' at position ${this.pos}`);
    this.pos += s.length;
  }
}

function readQuoted(c: Cursor): string {
  c.expect('"');
  let out = '';
  for (;;) {
    if (c.done) throw syntaxError('unterminated string');
    const ch = c.text[c.pos] ?? '';
    c.pos += 1;
    if (ch === '"') return out;
    if (ch === '\\') {
      const next = c.text[c.pos];
      if (next !== '"' && next !== '\\') throw syntaxError(`invalid escape at position ${c.pos - 1}`);
      out += next;
      c.pos += 1;
    } else {
      out += ch;
    }
  }
}

function readClause(c: Cursor): SearchClause {
  const negated = c.peek() === '-';
  if (negated) c.pos += 1;
  const field = /^[a-z_]+/.exec(c.text.slice(c.pos))?.[0];
  if (!field) throw syntaxError(`expected a field name at position ${c.pos}`);
  c.pos += field.length;
  let metadataKey: string | undefined;
  if (c.peek() === '[') {
    if (field !== 'metadata') throw syntaxError(`only metadata takes a key, at position ${c.pos}`);
    c.pos += 1;
    metadataKey = readQuoted(c);
    c.expect(']');
  }
  const operator = (['>=', '<=', ':', '~', '>', '<'] as const).find((op) => c.peek(op.length) === op);
  if (!operator) throw syntaxError(`expected ':' or '~' after '${field}' at position ${c.pos}`);
  c.pos += operator.length;
  let value: string | number;
  if (c.peek() === '"') {
    value = readQuoted(c);
  } else {
    const digits = /^-?\d+/.exec(c.text.slice(c.pos))?.[0];
    if (!digits) throw syntaxError(`expected a quoted value at position ${c.pos}`);
    c.pos += digits.length;
    value = Number(digits);
  }
  return { field, operator, value, negated, ...(metadataKey !== undefined ? { metadataKey } : {}) };
}

export function parseSearchQuery(text: string): SearchQuery {
  const c = new Cursor(text);
  const clauses: SearchClause[] = [];
  const joiners = new Set<'AND' | 'OR'>();
  c.skipSpaces();
  if (c.done) throw syntaxError('the query is empty');
  for (;;) {
    clauses.push(readClause(c));
    c.skipSpaces();
    if (c.done) break;
    const joiner = /^(AND|OR)\s/.exec(c.text.slice(c.pos))?.[1] as 'AND' | 'OR' | undefined;
    if (!joiner) throw syntaxError(`expected AND or OR at position ${c.pos}`);
    joiners.add(joiner);
    c.pos += joiner.length;
    c.skipSpaces();
  }
  if (joiners.size > 1) throw invalidRequest('Invalid search query: a query cannot combine AND and OR.', { param: 'query' });
  return { joiner: joiners.has('OR') ? 'OR' : 'AND', clauses };
}

const words = (s: string): string[] => s.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);

/** Stripe's case-insensitive word-sequence match (see the module comment). */
export function matchesWordSequence(fieldValue: string, queryValue: string): boolean {
  const have = words(fieldValue);
  const want = words(queryValue);
  if (want.length === 0) return false;
  for (let start = 0; start + want.length <= have.length; start++) {
    if (want.every((w, i) => have[start + i] === w)) return true;
  }
  return false;
}

/** The fields of a searchable object, as the evaluator sees them. */
export interface SearchableFields {
  strings: Record<string, string | null>;
  numbers: Record<string, number>;
  metadata: Record<string, string>;
}

function clauseMatches(clause: SearchClause, doc: SearchableFields): boolean {
  if (clause.field === 'metadata') {
    if (clause.metadataKey === undefined) throw syntaxError('metadata needs a key, e.g. metadata["key"]:"value"');
    return doc.metadata[clause.metadataKey] === String(clause.value);
  }
  if (clause.field in doc.numbers) {
    const have = doc.numbers[clause.field] ?? 0;
    const want = Number(clause.value);
    if (Number.isNaN(want)) throw syntaxError(`${clause.field} takes a number`);
    switch (clause.operator) {
      case ':':
        return have === want;
      case '>':
        return have > want;
      case '<':
        return have < want;
      case '>=':
        return have >= want;
      case '<=':
        return have <= want;
      case '~':
        throw syntaxError(`${clause.field} does not support '~'`);
    }
  }
  if (clause.field in doc.strings) {
    const have = doc.strings[clause.field] ?? '';
    const want = String(clause.value);
    if (clause.operator === '~') {
      // Stripe requires at least 3 characters for a substring search.
      if (want.length < 3) throw invalidRequest('Invalid search query: substring (~) values must have at least 3 characters.', { param: 'query' });
      return have.toLowerCase().includes(want.toLowerCase());
    }
    if (clause.operator !== ':') throw syntaxError(`${clause.field} only supports ':' and '~'`);
    return matchesWordSequence(have, want);
  }
  throw invalidRequest(`Invalid search query: the field '${clause.field}' is not supported for this resource.`, { param: 'query' });
}

export function matchesSearchQuery(query: SearchQuery, doc: SearchableFields): boolean {
  const results = query.clauses.map((clause) => clauseMatches(clause, doc) !== clause.negated);
  return query.joiner === 'AND' ? results.every(Boolean) : results.some(Boolean);
}
