// The load generator of bench/soak.mjs, in a process of its own (forked with IPC, see
// startForked in processes.mjs): SOAK_CONVERSATIONS chat slots, each running one conversation
// after another as a chatbot host would for its visitors, until told to finish.
//
// A conversation: a random UUID as X-Conversation-Id, one of the host keys, one transport for
// the whole chat (/v1/tools or /mcp), the tool list first (GET /v1/tools or MCP tools/list), then
// a visitor who is either signed in on the merchant's site (an identity token for their email)
// or verifies by email code (verify_email_start → the code read from the mail → verify_email_confirm,
// sometimes get_verification_status), then CALLS_MIN–CALLS_MAX customer tools picked by weight,
// with a think time before every call. Each request goes to the next server in turn (a load
// balancer without stickiness), so a code started on one process is confirmed on the other.
//
// Email codes are mailed by the servers to an SMTP server in this process (SMTP_URL, sent to the
// parent when ready). The servers allow 5 codes per email per hour, so a conversation verifies by
// code only when some demo customer's address has budget left (counted here) and no other
// conversation is waiting for a code to that address; otherwise it signs in with a token.
//
// IPC: → { type: 'ready', smtpUrl }; ← { type: 'start', servers, hostKeys, identitySecret };
// ← { type: 'report' } → { type: 'report', stats } (interval figures reset); ← { type: 'finish' }
// → { type: 'finished', stats } once every call in flight has been answered. Disconnect: exit.
import { randomInt, randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { mintIdentityToken } from '../../dist/demo/demo-identity.js';
import { send } from './http-client.mjs';

const range = (name, fallback) => {
  const [min, max = min] = (process.env[name] ?? fallback).split('-').map(Number);
  if (!(min >= 0 && max >= min)) throw new Error(`${name} must be a number or a range such as ${fallback}`);
  return { min, max };
};
const share = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!(value >= 0 && value <= 1)) throw new Error(`${name} must be a share between 0 and 1`);
  return value;
};
const CONVERSATIONS = Number(process.env.SOAK_CONVERSATIONS ?? 100);
const THINK_MS = range('SOAK_THINK_MS', '500-1500');
const CALLS = range('SOAK_CALLS', '3-8');
const CODE_SHARE = share('SOAK_CODE_SHARE', 0.2);
const MCP_SHARE = share('SOAK_MCP_SHARE', 0.5);
const MAIL_WAIT_MS = 20_000;
const CODES_PER_EMAIL_PER_HOUR = 5; // the servers' limit (src/verify/email-codes.ts)
const HOUR_MS = 3_600_000;

// The demo account's customers (src/demo/fake-stripe/seed.ts); every one can verify by code.
const EMAILS = ['alice@example.com', 'alice+work@example.com', 'bob.alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.jp', 'frank@example.com', 'heidi@example.com'];
// What visitors ask about, by weight: plan and next payment most, a portal link now and then.
const TOOL_WEIGHTS = [
  ['get_subscription_status', 20],
  ['get_upcoming_invoice', 15],
  ['get_invoice_history', 15],
  ['get_payment_history', 12],
  ['get_billing_info', 10],
  ['get_customer_overview', 10],
  ['get_credit_balance', 6],
  ['get_available_plans', 6],
  ['get_billing_portal_link', 4],
  ['cancel_subscription', 2],
];
const TOTAL_WEIGHT = TOOL_WEIGHTS.reduce((sum, [, weight]) => sum + weight, 0);
// The MCP answer that comes from outside runTool (the principal could not be resolved): no record.
const UNRECORDED_MCP_TEXT = 'The billing assistant is temporarily unavailable. Try again in a minute.';

const pick = (items) => items[randomInt(items.length)];
function pickTool() {
  let roll = randomInt(TOTAL_WEIGHT);
  for (const [tool, weight] of TOOL_WEIGHTS) {
    if (roll < weight) return tool;
    roll -= weight;
  }
  return TOOL_WEIGHTS[0][0];
}
// Digits (retry-after seconds) blurred, so that one kind of refusal is counted as one kind.
const blur = (text) => String(text).slice(0, 80).replace(/\d+/g, 'N');
const parseJson = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------
// Figures. Latencies are of calls that got an HTTP answer; the interval ones are reset by each report.

const totals = { calls: 0, answered: 0, ok: 0, resets: 0, lists: 0, conversations: 0, tokenConversations: 0, codeConversations: 0, codesVerified: 0, strayMails: 0 };
const answeredBySurface = { tools: 0, mcp: 0 };
const errors = new Map();
let latencies = [];
let interval = { calls: 0, latencies: [] };

function countError(kind) {
  errors.set(kind, (errors.get(kind) ?? 0) + 1);
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] : null);
function latencySummary(values) {
  const sorted = Float64Array.from(values).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

function snapshot() {
  const stats = {
    ...totals,
    answeredBySurface: { ...answeredBySurface },
    errors: Object.fromEntries([...errors].sort(([, a], [, b]) => b - a)),
    interval: { calls: interval.calls, ...latencySummary(interval.latencies) },
    all: latencySummary(latencies),
  };
  interval = { calls: 0, latencies: [] };
  return stats;
}

// ---------------------------------------------------------------------------------------------
// Mail: the servers' SMTP. One code flow per address at a time, so the next mail to an address
// belongs to the conversation that holds it.

const mailWaiters = new Map();
const codeLocks = new Set();
const codeStarts = new Map(EMAILS.map((email) => [email, []]));

const smtp = new SMTPServer({
  secure: false,
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  logger: false,
  onData(stream, session, callback) {
    // Read now: the envelope is reset for the next message once the callback has run.
    const to = session.envelope.rcptTo[0]?.address.toLowerCase();
    let raw = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => (raw += chunk));
    stream.on('end', () => {
      callback();
      const subject = /^subject:(.*(?:\r?\n[ \t].*)*)/im.exec(raw)?.[1].replace(/\r?\n[ \t]+/g, ' ') ?? '';
      const code = /(\d{6})\s*$/.exec(subject)?.[1];
      const waiter = mailWaiters.get(to);
      if (waiter && code) waiter(code);
      else totals.strayMails++;
    });
  },
});
smtp.on('error', () => {}); // a server hanging up mid-session is no failure of the load generator
await new Promise((resolve, reject) => smtp.listen(0, '127.0.0.1', resolve).once('error', reject));

/** An address with room for one more code this hour that no conversation is waiting on, claimed; else undefined. */
function claimCodeEmail() {
  const now = Date.now();
  for (const email of EMAILS.toSorted(() => Math.random() - 0.5)) {
    const starts = codeStarts.get(email).filter((at) => now - at < HOUR_MS);
    codeStarts.set(email, starts);
    if (!codeLocks.has(email) && starts.length < CODES_PER_EMAIL_PER_HOUR) {
      codeLocks.add(email);
      return email;
    }
  }
  return undefined;
}

/**
 * The code of the next mail to `email` (undefined after MAIL_WAIT_MS or on stop). Set up before
 * verify_email_start is sent: with the customer look-up cached, the mail can beat the answer.
 */
function expectCode(email) {
  let done;
  const code = new Promise((resolve) => {
    done = (value) => {
      clearTimeout(timer);
      mailWaiters.delete(email);
      stopWaiters.delete(done);
      resolve(value);
    };
    const timer = setTimeout(() => done(undefined), MAIL_WAIT_MS);
    mailWaiters.set(email, done);
    stopWaiters.add(done);
  });
  return { code, cancel: () => done(undefined) };
}

// ---------------------------------------------------------------------------------------------
// Stopping: think times and mail waits end at once; calls in flight are answered.

let stopping = false;
const stopWaiters = new Set();
const sleep = (ms) =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stopWaiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stopWaiters.add(done);
  });
const think = () => sleep(THINK_MS.min + Math.random() * (THINK_MS.max - THINK_MS.min));

// ---------------------------------------------------------------------------------------------
// Requests.

let servers = [];
let nextServer = 0;
const server = () => servers[nextServer++ % servers.length];

function headersOf(conversation) {
  return {
    authorization: `Bearer ${conversation.hostKey}`,
    'x-conversation-id': conversation.id,
    ...(conversation.token ? { 'x-customer-token': conversation.token } : {}),
  };
}

const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };

/** GET /v1/tools or MCP tools/list, as a host does when a chat opens (no tool call, no record). */
async function listTools(conversation) {
  totals.lists++;
  try {
    const response =
      conversation.transport === '/mcp'
        ? await send(`${server()}/mcp`, { method: 'POST', headers: { ...headersOf(conversation), ...mcpHeaders }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) })
        : await send(`${server()}/v1/tools`, { headers: headersOf(conversation) });
    const answer = parseJson(response.text);
    const tools = conversation.transport === '/mcp' ? answer?.result?.tools : answer?.anthropic;
    if (response.status !== 200 || !Array.isArray(tools)) countError(`tool list: HTTP ${response.status}`);
  } catch (failure) {
    if (failure.code === 'ECONNRESET') totals.resets++;
    else countError(`tool list: request failed (${failure.code ?? failure.name})`);
  }
}

/**
 * One tool call. Resolves with { ok, output }; counts it: answered (the server ran the tool, so it
 * wrote an audit record, refusals included), its latency, and what went wrong if anything did.
 */
async function callTool(conversation, tool, args = {}) {
  const viaMcp = conversation.transport === '/mcp';
  const started = performance.now();
  totals.calls++;
  interval.calls++;
  let response;
  try {
    response = viaMcp
      ? await send(`${server()}/mcp`, { method: 'POST', headers: { ...headersOf(conversation), ...mcpHeaders }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: args } }) })
      : await send(`${server()}/v1/tools/${tool}`, { method: 'POST', headers: { ...headersOf(conversation), 'content-type': 'application/json' }, body: JSON.stringify(args) });
  } catch (failure) {
    if (failure.code === 'ECONNRESET') totals.resets++;
    else countError(failure.code === 'TIMEOUT' ? 'timeout (30 s)' : `request failed (${failure.code ?? failure.name})`);
    return { ok: false };
  }
  const ms = performance.now() - started;
  latencies.push(ms);
  interval.latencies.push(ms);
  const answer = parseJson(response.text);
  let outcome; // { ok, output } once the tool answered; undefined when the server did not run it
  let error;
  if (viaMcp) {
    const result = answer?.result;
    if (response.status !== 200 || !answer) error = `/mcp: HTTP ${response.status} (${tool})`;
    else if (answer.error) error = `/mcp: JSON-RPC error ${answer.error.code}`;
    else if (result?.isError && result.content?.[0]?.text === UNRECORDED_MCP_TEXT) error = '/mcp: principal unavailable';
    else if (result?.isError) {
      outcome = { ok: false };
      error = `/mcp refused: "${blur(result.content?.[0]?.text)}"`;
    } else outcome = { ok: true, output: result?.structuredContent };
  } else if (answer?.is_error === false) outcome = { ok: true, output: answer.result };
  else if (answer?.is_error === true && (response.status === 200 || response.status === 429)) {
    outcome = { ok: false };
    error = `/v1/tools refused: ${answer.error?.kind}${response.status === 429 ? ' (HTTP 429)' : ''}`;
  } else error = `/v1/tools: HTTP ${response.status} (${tool}${answer?.error ? `: ${typeof answer.error === 'string' ? answer.error : answer.error.kind}` : ''})`;
  if (outcome) {
    totals.answered++;
    answeredBySurface[viaMcp ? 'mcp' : 'tools']++;
    if (outcome.ok) totals.ok++;
  }
  // By transport and kind, not by tool: which tool met a busy budget is chance.
  if (error) countError(error);
  return outcome ?? { ok: false };
}

// ---------------------------------------------------------------------------------------------
// Conversations.

async function verifyByCode(conversation, email) {
  await think();
  if (stopping) return false;
  codeStarts.get(email).push(Date.now());
  const mail = expectCode(email);
  const started = await callTool(conversation, 'verify_email_start', { email });
  if (!started.ok || stopping) {
    mail.cancel();
    return false;
  }
  const code = await mail.code;
  if (!code) {
    if (!stopping) countError('verify_email_start: no code mailed within 20 s');
    return false;
  }
  await think();
  if (stopping) return false;
  const confirmed = await callTool(conversation, 'verify_email_confirm', { code });
  if (!confirmed.ok) return false;
  totals.codesVerified++;
  if (Math.random() < 0.3 && !stopping) await callTool(conversation, 'get_verification_status');
  return true;
}

async function conversationOf(hostKeys, identitySecret) {
  const conversation = { id: randomUUID(), hostKey: pick(hostKeys), transport: Math.random() < MCP_SHARE ? '/mcp' : '/v1/tools', token: undefined };
  totals.conversations++;
  const codeEmail = Math.random() < CODE_SHARE ? claimCodeEmail() : undefined;
  if (!codeEmail) {
    conversation.token = await mintIdentityToken(pick(EMAILS), identitySecret, 3600);
    totals.tokenConversations++;
  } else totals.codeConversations++;
  await listTools(conversation);
  if (codeEmail) {
    let verified;
    try {
      verified = await verifyByCode(conversation, codeEmail);
    } finally {
      codeLocks.delete(codeEmail);
    }
    if (!verified) return;
  }
  const calls = CALLS.min + randomInt(CALLS.max - CALLS.min + 1);
  for (let call = 0; call < calls && !stopping; call++) {
    await think();
    if (!stopping) await callTool(conversation, pickTool());
  }
}

async function slot(index, hostKeys, identitySecret) {
  // Staggered, so that the slots do not call in step.
  await sleep((index / CONVERSATIONS) * THINK_MS.max);
  while (!stopping) await conversationOf(hostKeys, identitySecret);
}

let running;
process.on('message', async (message) => {
  if (message.type === 'start') {
    servers = message.servers;
    running = Promise.all(Array.from({ length: CONVERSATIONS }, (_, index) => slot(index, message.hostKeys, message.identitySecret)));
  } else if (message.type === 'report') {
    process.send({ type: 'report', stats: snapshot() });
  } else if (message.type === 'finish') {
    stopping = true;
    for (const done of [...stopWaiters]) done();
    await running;
    process.send({ type: 'finished', stats: snapshot() });
  }
});
process.on('disconnect', () => {
  smtp.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
process.send({ type: 'ready', smtpUrl: `smtp://127.0.0.1:${smtp.server.address().port}` });
