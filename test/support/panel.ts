import { expect } from 'vitest';

/** The sign-in form's POST as a browser sends it (from the panel's own origin unless told otherwise). */
export function postSignIn(url: string, fields: Record<string, string>, origin = url): Promise<Response> {
  return fetch(`${url}/panel/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams(fields),
  });
}

/** The panel's session cookie after a real sign-in form post, as a browser would send it back. */
export async function panelSignIn(url: string, key: string): Promise<string> {
  const response = await postSignIn(url, { key, return_to: '' });
  expect(response.status, await response.clone().text()).toBe(303);
  const cookie = response.headers.getSetCookie().find((line) => /^__Host-sbm_panel(_embedded)?=[^;]/.test(line));
  expect(cookie).toBeDefined();
  return cookie!.split(';')[0]!;
}

/** The per-session CSRF token the panel page carries for its forms and scripts. */
export async function panelCsrfToken(url: string, cookie: string): Promise<string> {
  const html = await (await fetch(`${url}/panel`, { headers: { cookie } })).text();
  const token = /data-csrf="([^"]+)"/.exec(html)?.[1];
  expect(token).toBeDefined();
  return token!;
}
