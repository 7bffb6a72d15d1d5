/**
 * Decoding of Stripe's form-encoded parameters.
 *
 * Stripe (and its SDK) send nested values in bracket notation: `expand[]=a`, `expand[0]=a`,
 * `discounts[0][promotion_code]=x`, `flow_data[subscription_cancel][subscription]=sub_1`.
 * This turns such pairs into nested objects and arrays so endpoint schemas can validate them.
 */
import { invalidRequest } from './errors.js';

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

/** Splits `a[b][0][]` into `['a', 'b', '0', '']`; a key without brackets is one segment. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0 || !key.endsWith(']')) return [key];
  const head = key.slice(0, open);
  const inner = key.slice(open + 1, -1).split('][');
  return [head, ...inner];
}

type Container = Map<string, Node>;
type Node = string | Container;

function insert(root: Container, segments: string[], value: string, fullKey: string): void {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    let segment = segments[i] ?? '';
    // `a[]` appends: give it the next free index so it becomes an array element.
    if (segment === '') segment = String(node.size);
    const last = i === segments.length - 1;
    const existing = node.get(segment);
    if (last) {
      if (existing instanceof Map) throw invalidRequest(`Invalid value for ${fullKey}: cannot mix a value and nested parameters.`, { param: fullKey });
      node.set(segment, value);
      return;
    }
    if (typeof existing === 'string') throw invalidRequest(`Invalid value for ${fullKey}: cannot mix a value and nested parameters.`, { param: fullKey });
    const child: Container = existing ?? new Map();
    node.set(segment, child);
    node = child;
  }
}

/** A container whose keys are exactly 0..n-1 is an array (Stripe's indexed-array format). */
function toFormValue(node: Node): FormValue {
  if (typeof node === 'string') return node;
  const keys = [...node.keys()];
  const isArray = keys.length > 0 && keys.every((k) => /^\d+$/.test(k));
  if (isArray) {
    return keys
      .map((k) => [Number(k), node.get(k) as Node] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, v]) => toFormValue(v));
  }
  const out: FormObject = {};
  for (const [k, v] of node) out[k] = toFormValue(v);
  return out;
}

export function parseFormParams(...sources: URLSearchParams[]): FormObject {
  const root: Container = new Map();
  for (const source of sources) {
    for (const [key, value] of source) insert(root, splitKey(key), value, key);
  }
  const parsed = toFormValue(root);
  return typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
}

/** Renders a parameter path the way Stripe names it in errors: `flow_data[subscription_cancel][foo]`. */
export function bracketPath(path: ReadonlyArray<PropertyKey>): string {
  const [head, ...rest] = path.map(String);
  return (head ?? '') + rest.map((p) => `[${p}]`).join('');
}
