/**
 * Reads an actions policy from a JSON file: `ACTIONS_POLICY` at start (through config.ts, so every
 * command refuses to start on a bad policy) and `policy --check FILE`. Synchronous on purpose: it
 * runs once, inside the settings' validation, before anything else starts.
 */
import { readFileSync } from 'node:fs';
import { parseActionsPolicy, type PolicyParse } from './policy.js';

/** What the file holds, or why it holds no policy: problems name the file or the field. */
export function readPolicyFile(path: string): PolicyParse {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, problems: [`there is no file at ${path}`] };
    if (code === 'EISDIR') return { ok: false, problems: [`${path} is a folder, not a JSON file`] };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, problems: [`${path} cannot be read (permission denied)`] };
    return { ok: false, problems: [`${path} cannot be read (${code ?? 'error'})`] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    return { ok: false, problems: [`${path} is not valid JSON: ${error instanceof Error ? error.message : 'parse error'}`] };
  }
  return parseActionsPolicy(json);
}
