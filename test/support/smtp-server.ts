import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMessage {
  from: string;
  to: string[];
  raw: string;
  subject?: string;
  text?: string;
  html?: string;
  /** Every header of the top-level part, lower-cased names, unfolded. */
  headers: Record<string, string>;
}

export interface TestSmtpServer {
  url: string;
  port: number;
  messages: ReceivedMessage[];
  /** Login attempts as the server saw them (user names only). */
  logins: Array<{ user: string; accepted: boolean }>;
  waitForMessage(timeoutMs?: number): Promise<ReceivedMessage>;
  stop(): Promise<void>;
}

/**
 * A real SMTP server on a free loopback port. Plain text, no STARTTLS, login allowed without
 * TLS: loopback only, for tests.
 */
export async function startSmtpServer(
  options: { requireAuth?: { user: string; pass: string }; rejectRecipients?: boolean } = {},
): Promise<TestSmtpServer> {
  const messages: ReceivedMessage[] = [];
  const logins: TestSmtpServer['logins'] = [];
  const waiters: Array<() => void> = [];
  /** Messages already returned by waitForMessage: each is handed over once, in order. */
  let handedOver = 0;
  const auth = options.requireAuth;

  const server = new SMTPServer({
    secure: false,
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(login, _session, callback) {
      const accepted = !!auth && login.username === auth.user && login.password === auth.pass;
      logins.push({ user: login.username ?? '', accepted });
      if (!accepted) return callback(new Error('Invalid username or password'));
      callback(null, { user: login.username });
    },
    onRcptTo(address, _session, callback) {
      if (options.rejectRecipients) {
        // Real servers quote the address back; the mailer must not pass that on.
        const error = Object.assign(new Error(`<${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 });
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const envelopeFrom = session.envelope.mailFrom;
        const message: ReceivedMessage = {
          from: envelopeFrom ? envelopeFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parseMessage(raw),
        };
        messages.push(message);
        waiters.shift()?.();
        callback();
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {}); // a client hanging up mid-session is not a test failure
  const port = (server.server.address() as AddressInfo).port;
  const credentials = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : '';

  return {
    url: `smtp://${credentials}127.0.0.1:${port}`,
    port,
    messages,
    logins,
    waitForMessage(timeoutMs = 5_000) {
      const ready = messages[handedOver];
      if (ready) {
        handedOver += 1;
        return Promise.resolve(ready);
      }
      return new Promise((resolve, reject) => {
        const waiter = () => {
          clearTimeout(timer);
          const next = messages[handedOver];
          handedOver += 1;
          if (next) resolve(next);
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no message within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface ParsedMessage {
  headers: Record<string, string>;
  subject?: string;
  text?: string;
  html?: string;
}

/** Just enough MIME for nodemailer's output: one level of multipart, 7bit/QP/base64 bodies. */
export function parseMessage(raw: string): ParsedMessage {
  const { headers, body } = splitPart(raw);
  const parsed: ParsedMessage = { headers };
  if (headers.subject !== undefined) parsed.subject = decodeEncodedWords(headers.subject);
  const parts = leafParts(headers, body);
  for (const part of parts) {
    const type = (part.headers['content-type'] ?? 'text/plain').toLowerCase();
    const content = decodeBody(part.body, part.headers['content-transfer-encoding']);
    if (type.startsWith('text/plain') && parsed.text === undefined) parsed.text = content;
    if (type.startsWith('text/html') && parsed.html === undefined) parsed.html = content;
  }
  return parsed;
}

function leafParts(headers: Record<string, string>, body: string): Array<{ headers: Record<string, string>; body: string }> {
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) return [{ headers, body }];
  const sections = body.split(`--${boundary}`).slice(1);
  return sections
    .filter((section) => !section.startsWith('--'))
    .flatMap((section) => {
      const part = splitPart(section.replace(/^\r?\n/, ''));
      return leafParts(part.headers, part.body);
    });
}

function splitPart(text: string): { headers: Record<string, string>; body: string } {
  const normalized = text.replace(/\r\n/g, '\n');
  const end = normalized.indexOf('\n\n');
  const head = end < 0 ? normalized : normalized.slice(0, end);
  const body = end < 0 ? '' : normalized.slice(end + 2);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeBody(body: string, encoding = '7bit'): string {
  const kind = encoding.toLowerCase();
  if (kind === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (kind === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

function decodeQuotedPrintable(body: string): string {
  const unwrapped = body.replace(/=\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < unwrapped.length; i++) {
    const hex = unwrapped.slice(i + 1, i + 3);
    if (unwrapped[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(unwrapped[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}
