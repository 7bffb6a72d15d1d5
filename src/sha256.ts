import * as crypto from 'node:crypto';

// `crypto.hash` (Node 20.12+) digests in one call, without building a Hash object: about half
// of createHash's cost for the short strings hashed on every call (bearer keys, tokens, emails).
// Node 20.0–20.11 have no `crypto.hash`, so createHash stands in there (read from the namespace:
// a named import of a missing export would fail to load there).
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** SHA-256 of a string, as the encoding names (the same bytes createHash would give). */
export function sha256(text: string, encoding: 'hex' | 'base64url'): string;
export function sha256(text: string, encoding: 'buffer'): Buffer;
export function sha256(text: string, encoding: 'hex' | 'base64url' | 'buffer'): string | Buffer {
  if (oneShot) return oneShot('sha256', text, encoding as 'hex');
  const digest = crypto.createHash('sha256').update(text);
  return encoding === 'buffer' ? digest.digest() : digest.digest(encoding);
}
