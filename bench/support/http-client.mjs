// The benches' HTTP client: node:http with keep-alive rather than fetch. With 500 connections to
// one origin, fetch (undici) left some requests waiting for seconds while others were answered
// (p99 of 7–13 s that a node:http client on the same server did not see): it measured the load
// generator, not the server.
import { Agent, request as httpRequest } from 'node:http';

const agent = new Agent({ keepAlive: true });
const CALL_TIMEOUT_MS = 30_000;

/** One request; resolves to { status, text } (a timeout rejects with code TIMEOUT). */
export function send(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers, agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode, text }));
      response.on('error', reject);
    });
    request.setTimeout(CALL_TIMEOUT_MS, () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    request.on('error', reject);
    request.end(body);
  });
}

export function post(url, headers, body) {
  return send(url, { method: 'POST', headers, body });
}
