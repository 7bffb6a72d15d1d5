/**
 * What `JSON.parse(JSON.stringify(value))` would give for a tool's parsed output, without copying
 * it: members whose value is undefined are left out, undefined array items become null and -0
 * becomes 0. Every transport, the summary and the audit then see the same object.
 *
 * Only for a value nothing else holds, such as zod's output (zod builds fresh objects and arrays
 * for the schemas tools declare): arrays and members are changed in place, and an object is
 * rebuilt only when it has an undefined member.
 */
export function dropUndefined<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const cleaned = item === undefined ? null : clean(item);
      if (!Object.is(cleaned, item)) value[i] = cleaned;
    }
    return value;
  }
  const record = value as Record<string, unknown>;
  let undefinedMembers = false;
  for (const key in record) {
    const member = record[key];
    if (member === undefined) {
      undefinedMembers = true;
      continue;
    }
    const cleaned = clean(member);
    if (!Object.is(cleaned, member)) record[key] = cleaned;
  }
  if (!undefinedMembers) return record;
  // A fresh object rather than `delete`, which would leave this one slow to read and serialize.
  const kept: Record<string, unknown> = {};
  for (const key in record) if (record[key] !== undefined) kept[key] = record[key];
  return kept;
}
