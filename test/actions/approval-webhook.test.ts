/**
 * APPROVAL_WEBHOOK_URL: a loopback HTTP server stands in for Slack or a helpdesk. Each request
 * that waits for approval is POSTed there, signed (the receiver's own check verifies it),
 * retried on 5xx with backoff, not on other 4xx, never blocking the customer's click, and never
 * logging the URL's secret path.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalWebhook, approvalWebhookFrom, EVENT_TYPE, SIGNATURE_HEADER, verifyApprovalSignature } from '../../src/actions/approval-webhook.js';
import type { ActionRequest } from '../../src/actions/requests.js';
import { loadSettings } from '../../src/config.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { ConfigurationError } from '../../src/errors.js';
import { actionsFixtures, ALICE, type ActionsFixture } from '../support/actions.js';
import { HOST_A } from '../support/http-harness.js';

const SECRET = 'approval-webhook-test-secret-0123456789abcdef';
/** Slack's webhook URLs carry their secret in the path: it must never be logged. */
const SECRET_PATH = '/services/T0000/B0000/SecretPathToken123';

interface Received {
  body: string;
  headers: IncomingMessage['headers'];
}

interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A webhook receiver on a free loopback port; `answer` decides each POST's status (and may hold it). */
async function startReceiver(answer: (n: number) => number | Promise<number>): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      response.writeHead(await answer(received.length), { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${SECRET_PATH}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function capturedLog() {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }));
  return { log, lines };
}

function waitingRequest(overrides: Partial<ActionRequest> = {}): ActionRequest {
  const at = new Date().toISOString();
  return {
    id: 'req_AAAAAAAAAAAAAAAAAAAAAA',
    tenant_id: null,
    kind: 'refund',
    customer_id: 'cus_DemoAlice',
    email: 'alice@example.com',
    principal: 'customer',
    created_by: 'host:acme-bot',
    conversation: null,
    params: { charge: 'ch_1', amount: 7400, currency: 'usd', reason: 'requested_by_customer' },
    preview: {
      summary: 'Refund $74.00 of your $99.00 payment of 2026-11-30 to the Visa card ending 4242 <!channel>',
      when: 'Refunds reach the card in 5–10 business days',
      amount: { amount: 7400, currency: 'usd', formatted: '$74.00' },
      approval_because: ['The amount is above the $50.00 that is approved without a person.'],
    },
    state: 'awaiting_approval',
    state_version: 2,
    confirm_expires_at: null,
    confirmed_via: 'host',
    claimed_at: null,
    decided_by: null,
    note: null,
    stripe_object_id: null,
    failure_reason: null,
    created_at: at,
    updated_at: at,
    ...overrides,
  };
}

const opened: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

describe('the approval webhook', () => {
  it('retries a 500 with backoff and delivers on the third try, each POST signed and carrying a Slack-readable text', async () => {
    const receiver = await startReceiver((n) => (n <= 2 ? 500 : 200));
    opened.push(receiver);
    const { log, lines } = capturedLog();
    const webhook = new ApprovalWebhook({ url: receiver.url, secret: SECRET, publicUrl: 'https://billing.example.com/', merchantName: 'Acme', log, delaysMs: [20, 20, 20] });
    opened.push(webhook);
    webhook.notify(waitingRequest());
    await webhook.idle();

    expect(receiver.received).toHaveLength(3);
    for (const { body, headers } of receiver.received) {
      const signature = headers[SIGNATURE_HEADER.toLowerCase()] as string;
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifyApprovalSignature(SECRET, body, signature)).toBe(true);
      // Another secret, or a body changed on the way, does not verify.
      expect(verifyApprovalSignature(`${SECRET}x`, body, signature)).toBe(false);
      expect(verifyApprovalSignature(SECRET, body.replace('7400', '9900'), signature)).toBe(false);
      expect(headers['content-type']).toBe('application/json');
    }
    // A signature older than five minutes is refused: a replayed POST is not a new request.
    const { body, headers } = receiver.received[2]!;
    const t = Number(/t=(\d+)/.exec(headers[SIGNATURE_HEADER.toLowerCase()] as string)![1]);
    expect(verifyApprovalSignature(SECRET, body, headers[SIGNATURE_HEADER.toLowerCase()] as string, t + 301)).toBe(false);

    const payload = JSON.parse(body) as { type: string; request: Record<string, unknown>; text: string };
    expect(payload.type).toBe(EVENT_TYPE);
    expect(payload.request).toMatchObject({
      id: 'req_AAAAAAAAAAAAAAAAAAAAAA',
      kind: 'refund',
      customer_id: 'cus_DemoAlice',
      email: 'alice@example.com',
      amount: { formatted: '$74.00' },
      approval_because: ['The amount is above the $50.00 that is approved without a person.'],
    });
    expect(payload.text).toContain('[Acme] A refund request waits for approval: Refund $74.00');
    expect(payload.text).toContain('Needs approval because: The amount is above the $50.00');
    expect(payload.text).toContain('https://billing.example.com/panel/requests#req_AAAAAAAAAAAAAAAAAAAAAA');
    // Text from a preview cannot ping a Slack channel.
    expect(payload.text).toContain('&lt;!channel&gt;');
    expect(payload.text).not.toContain('<!channel>');

    const logged = lines.join('');
    expect(logged).toContain('approval webhook delivered');
    expect(logged).toMatch(/"attempts":3/);
    expect(logged).toContain(new URL(receiver.url).host);
    expect(logged).not.toContain('SecretPathToken123');
    expect(logged).not.toContain(SECRET);
  });

  it('gives up at once on a 4xx other than 429, and after the last delay on 5xx', async () => {
    const refusing = await startReceiver(() => 404);
    opened.push(refusing);
    const { log, lines } = capturedLog();
    const once = new ApprovalWebhook({ url: refusing.url, secret: SECRET, log, delaysMs: [10, 10] });
    opened.push(once);
    once.notify(waitingRequest());
    await once.idle();
    expect(refusing.received).toHaveLength(1);
    expect(lines.join('')).toContain('approval webhook not delivered');

    const throttled = await startReceiver((n) => (n === 1 ? 429 : 503));
    opened.push(throttled);
    const retries = new ApprovalWebhook({ url: throttled.url, secret: SECRET, log, delaysMs: [10, 10] });
    opened.push(retries);
    retries.notify(waitingRequest());
    await retries.idle();
    // The first try and one per delay.
    expect(throttled.received).toHaveLength(3);
    expect(lines.join('')).not.toContain('SecretPathToken123');
  });

  it('keeps a bounded queue: beyond it a request is dropped and said, the others still go', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const receiver = await startReceiver(async () => {
      await held;
      return 204;
    });
    opened.push(receiver);
    const { log, lines } = capturedLog();
    const webhook = new ApprovalWebhook({ url: receiver.url, log, maxPending: 2, delaysMs: [] });
    opened.push(webhook);
    for (const id of ['req_AAAAAAAAAAAAAAAAAAAAA1', 'req_AAAAAAAAAAAAAAAAAAAAA2', 'req_AAAAAAAAAAAAAAAAAAAAA3']) webhook.notify(waitingRequest({ id }));
    expect(lines.join('')).toContain('too many deliveries waiting');
    release();
    await webhook.idle();
    expect(receiver.received.map(({ body }) => (JSON.parse(body) as { request: { id: string } }).request.id).sort()).toEqual(['req_AAAAAAAAAAAAAAAAAAAAA1', 'req_AAAAAAAAAAAAAAAAAAAAA2']);
    // No secret set: unsigned.
    expect(receiver.received[0]!.headers[SIGNATURE_HEADER.toLowerCase()]).toBeUndefined();
  });

  it('warns at start when unsigned, except for Slack’s own hooks; refuses plain http beyond loopback', () => {
    const { log, lines } = capturedLog();
    approvalWebhookFrom({ APPROVAL_WEBHOOK_URL: `https://hooks.example.com${SECRET_PATH}` }, log);
    expect(lines.join('')).toContain('APPROVAL_WEBHOOK_SECRET is not set');
    expect(lines.join('')).not.toContain('SecretPathToken123');
    lines.length = 0;
    approvalWebhookFrom({ APPROVAL_WEBHOOK_URL: `https://hooks.slack.com${SECRET_PATH}` }, log);
    approvalWebhookFrom({ APPROVAL_WEBHOOK_URL: `https://hooks.example.com${SECRET_PATH}`, APPROVAL_WEBHOOK_SECRET: SECRET }, log);
    expect(lines).toEqual([]);
    expect(approvalWebhookFrom({}, log)).toBeUndefined();

    expect(() => loadSettings({ APPROVAL_WEBHOOK_URL: 'http://hooks.example.com/x' })).toThrow(ConfigurationError);
    expect(() => loadSettings({ APPROVAL_WEBHOOK_URL: 'http://hooks.example.com/x' })).toThrow(/APPROVAL_WEBHOOK_URL must be an https:\/\/ URL/);
    expect(loadSettings({ APPROVAL_WEBHOOK_URL: 'http://127.0.0.1:9/hook' }).APPROVAL_WEBHOOK_URL).toBe('http://127.0.0.1:9/hook');
  });
});

describe('APPROVAL_WEBHOOK_URL on the server', () => {
  const fixture = actionsFixtures();

  it('POSTs a request the customer confirmed above auto_approve, without holding up their click', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const receiver = await startReceiver(async () => {
      await held;
      return 200;
    });
    opened.push(receiver);
    const fx: ActionsFixture = await fixture({ env: { APPROVAL_WEBHOOK_URL: receiver.url, APPROVAL_WEBHOOK_SECRET: SECRET, PUBLIC_URL: 'https://billing.example.com' } });
    opened.push(fx);
    const asked = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.actions.alicePartlyRefundedCharge, amount: null, reason: 'requested_by_customer' });
    const { request_id: id, token } = asked.body.confirmation!;
    // Not waiting for approval yet: nothing is sent for a request the customer has not confirmed.
    expect(receiver.received).toHaveLength(0);

    const confirm = await fetch(`${fx.url}/v1/requests/${id}/confirm`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(ALICE), 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    // The receiver has not answered, and the click already has its answer.
    expect(confirm.status).toBe(200);
    expect(((await confirm.json()) as { request: { state: string } }).request.state).toBe('awaiting_approval');
    await expect.poll(() => receiver.received.length).toBe(1);
    release();

    const { body, headers } = receiver.received[0]!;
    expect(verifyApprovalSignature(SECRET, body, headers[SIGNATURE_HEADER.toLowerCase()] as string)).toBe(true);
    const payload = JSON.parse(body) as { request: { id: string; email: string; approval_because: string[] }; text: string };
    expect(payload.request).toMatchObject({ id, email: ALICE });
    expect(payload.request.approval_because.length).toBeGreaterThan(0);
    expect(payload.text).toContain(`https://billing.example.com/panel/requests#${id}`);
    // Never the confirmation secret.
    expect(body).not.toContain(token.split('.')[1]!);
  });
});
