import { createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../src/errors.js';
import { renderCodeEmail } from '../src/verify/code-email.js';
import { createOutboxMailer, createSmtpMailer, MailDeliveryError, redactEmail } from '../src/verify/mailer.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.js';

const CODE = '493817';
const VISITOR = 'alice.visitor@example.com';
const MAIL_FROM = 'Acme Billing <billing@acme.example>';
const USER = 'mailer-user';
const PASSWORD = 'hunter2-s3cret';
const WRONG_PASSWORD = 'not-the-password-77';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function smtp(options?: Parameters<typeof startSmtpServer>[0]): Promise<TestSmtpServer> {
  const server = await startSmtpServer(options);
  cleanups.push(() => server.stop());
  return server;
}

/** A logger without redaction, so the test sees exactly what the mailer handed it. */
function capturingLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), text: () => lines.join('') };
}

function mailer(smtpUrl: string, overrides: Partial<Parameters<typeof createSmtpMailer>[0]> = {}) {
  const captured = capturingLog();
  const instance = createSmtpMailer({ smtpUrl, mailFrom: MAIL_FROM, merchantName: 'Acme', log: captured.log, timeoutMs: 2_000, ...overrides });
  return { mailer: instance, logText: captured.text };
}

async function deliveryError(promise: Promise<unknown>): Promise<MailDeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailDeliveryError);
  return error as MailDeliveryError;
}

/** A port nothing listens on: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts the connection and never says hello, like a firewalled or wedged mail server. */
async function silentServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as { port: number }).port;
}

function expectNothingSecret(text: string): void {
  expect(text).not.toContain(CODE);
  expect(text).not.toContain(VISITOR);
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(WRONG_PASSWORD);
}

describe('SMTP mailer', () => {
  it('mails the code to the visitor from MAIL_FROM, with text and HTML parts naming the merchant', async () => {
    const server = await smtp();
    const { mailer: m, logText } = mailer(server.url);

    await m.sendCode({ to: VISITOR, code: CODE, expiresInMinutes: 10 });
    const message = await server.waitForMessage();

    expect(message.to).toEqual([VISITOR]);
    expect(message.from).toBe('billing@acme.example');
    expect(message.headers.from).toContain('billing@acme.example');
    expect(message.subject).toBe(`Your verification code for Acme: ${CODE}`);
    expect(message.text).toContain(CODE);
    expect(message.text).toContain('Acme');
    expect(message.text).toContain('10 minutes');
    expect(message.text).toContain("If you didn't ask for this, ignore this email — someone may have typed your address by mistake.");
    expect(message.html).toContain(CODE);
    expect(message.html).toContain('Acme');
    expect(message.headers['content-type']).toMatch(/^multipart\/alternative/);
    // The log says it happened without saying to whom or what.
    expect(logText()).toContain('a***@example.com');
    expectNothingSecret(logText());
  });

  it('logs in when the server requires it and the URL carries the right credentials', async () => {
    const server = await smtp({ requireAuth: { user: USER, pass: PASSWORD } });
    const { mailer: m } = mailer(server.url);

    await m.sendCode({ to: VISITOR, code: CODE, expiresInMinutes: 10 });

    expect((await server.waitForMessage()).text).toContain(CODE);
    expect(server.logins).toEqual([{ user: USER, accepted: true }]);
  });

  it('turns a refused login into a MailDeliveryError that leaks neither code, address nor password', async () => {
    const server = await smtp({ requireAuth: { user: USER, pass: PASSWORD } });
    const { mailer: m, logText } = mailer(`smtp://${USER}:${WRONG_PASSWORD}@127.0.0.1:${server.port}`);

    const error = await deliveryError(m.sendCode({ to: VISITOR, code: CODE, expiresInMinutes: 10 }));

    expect(error.reason).toBe('auth');
    expect(error.message).toMatch(/refused the login.*SMTP_URL/);
    expectNothingSecret(`${error.message} ${String(error.stack)}`);
    expectNothingSecret(JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause as object)));
    expect(server.messages).toHaveLength(0);
    expect(logText()).toContain('EAUTH');
    expect(logText()).toContain('a***@example.com');
    expectNothingSecret(logText());
  });

  it('does not pass on a rejection that quotes the recipient back', async () => {
    const server = await smtp({ rejectRecipients: true });
    const { mailer: m, logText } = mailer(server.url);

    const error = await deliveryError(m.sendCode({ to: VISITOR, code: CODE, expiresInMinutes: 10 }));

    expect(error.reason).toBe('rejected');
    expectNothingSecret(error.message);
    expectNothingSecret(JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause as object)));
    // The server's reply reaches the log (it is what an operator needs), minus the address.
    expect(logText()).toContain('Recipient address rejected');
    expectNothingSecret(logText());
  });

  it('refuses to mail anything but one plain address', async () => {
    const server = await smtp();
    const { mailer: m } = mailer(server.url);

    for (const to of [`${VISITOR}, eve@evil.example`, `Eve <eve@evil.example>`, `${VISITOR}\r\nBcc: eve@evil.example`]) {
      await deliveryError(m.sendCode({ to, code: CODE, expiresInMinutes: 10 }));
    }
    expect(server.messages).toHaveLength(0);
  });

  it('fails fast with a MailDeliveryError when nothing listens on the port', async () => {
    const port = await closedPort();
    const { mailer: m, logText } = mailer(`smtp://${USER}:${PASSWORD}@127.0.0.1:${port}`);

    const error = await deliveryError(m.sendCode({ to: VISITOR, code: CODE, expiresInMinutes: 10 }));

    expect(error.reason).toBe('connection');
    expect(logText()).toContain('ECONNREFUSED');
    expectNothingSecret(logText());
  });

  // The test's own time limit is below nodemailer's defaults: it passes only if timeoutMs is applied.
  it('gives up on a server that never answers within the configured timeout', { timeout: 5_000 }, async () => {
    const port = await silentServer();
    const { mailer: m } = mailer(`smtp://127.0.0.1:${port}`, { timeoutMs: 300 });

    const error = await deliveryError(m.sendCode({ to: VISITOR, code: CODE, expiresInMinutes: 10 }));

    expect(error.reason).toBe('timeout');
  });

  it('with requireTls, never sends the password over a connection that cannot be encrypted', async () => {
    const server = await smtp({ requireAuth: { user: USER, pass: PASSWORD } });
    const { mailer: m } = mailer(server.url, { requireTls: true });

    const error = await deliveryError(m.sendCode({ to: VISITOR, code: CODE, expiresInMinutes: 10 }));

    expect(error.reason).toBe('tls');
    expect(server.logins).toEqual([]);
    expect(server.messages).toHaveLength(0);
  });

  describe('verify()', () => {
    it('succeeds against a reachable server with the right login, sending nothing', async () => {
      const server = await smtp({ requireAuth: { user: USER, pass: PASSWORD } });
      const { mailer: m } = mailer(server.url);

      await expect(m.verify?.()).resolves.toBeUndefined();
      expect(server.logins).toEqual([{ user: USER, accepted: true }]);
      expect(server.messages).toHaveLength(0);
    });

    it('fails with the reason when the login is wrong or nothing listens', async () => {
      const server = await smtp({ requireAuth: { user: USER, pass: PASSWORD } });
      const wrong = mailer(`smtp://${USER}:${WRONG_PASSWORD}@127.0.0.1:${server.port}`);
      expect((await deliveryError(wrong.mailer.verify!())).reason).toBe('auth');
      expectNothingSecret(wrong.logText());

      const closed = mailer(`smtp://127.0.0.1:${await closedPort()}`);
      expect((await deliveryError(closed.mailer.verify!())).reason).toBe('connection');
    });
  });

  describe('configuration', () => {
    it('requires MAIL_FROM when SMTP_URL is set', () => {
      for (const mailFrom of [undefined, '', '   ']) {
        expect(() => mailer('smtp://127.0.0.1:2525', { mailFrom })).toThrow(ConfigurationError);
        expect(() => mailer('smtp://127.0.0.1:2525', { mailFrom })).toThrow(/MAIL_FROM/);
      }
      expect(() => mailer('smtp://127.0.0.1:2525', { mailFrom: 'Acme Billing' })).toThrow(/MAIL_FROM/);
    });

    it('accepts only smtp:// and smtps:// URLs, without echoing the password', () => {
      for (const smtpUrl of [`https://${USER}:${PASSWORD}@mail.example.com`, `${USER}:${PASSWORD}@mail.example.com:587`, 'smtp://']) {
        let thrown: unknown;
        try {
          mailer(smtpUrl);
        } catch (error) {
          thrown = error;
        }
        expect(thrown, smtpUrl).toBeInstanceOf(ConfigurationError);
        expect((thrown as Error).message).toMatch(/^SMTP_URL /);
        expect((thrown as Error).message).not.toContain(PASSWORD);
      }
      expect(() => mailer(`smtps://${USER}:${PASSWORD}@mail.example.com:465`)).not.toThrow();
      expect(() => mailer('SMTP://mail.example.com:587')).not.toThrow();
    });
  });
});

describe('demo outbox mailer', () => {
  it('keeps each message and prints it, code included, under a DEMO OUTBOX label', async () => {
    const printed: string[] = [];
    const outbox = createOutboxMailer({ merchantName: 'Acme', print: (text) => printed.push(text) });

    await outbox.sendCode({ to: VISITOR, code: CODE, expiresInMinutes: 10 });

    expect(outbox.messages).toEqual([
      expect.objectContaining({ to: VISITOR, code: CODE, subject: `Your verification code for Acme: ${CODE}` }),
    ]);
    expect(outbox.messages[0]?.html).toContain(CODE);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^----- DEMO OUTBOX/);
    expect(printed[0]).toContain(`To: ${VISITOR}`);
    expect(printed[0]).toContain(CODE);
  });

  it('remembers only the most recent messages', async () => {
    const outbox = createOutboxMailer({ merchantName: 'Acme', print: () => {}, limit: 3 });
    for (let i = 0; i < 5; i++) await outbox.sendCode({ to: `v${i}@example.com`, code: `00000${i}`, expiresInMinutes: 10 });
    expect(outbox.messages.map((m) => m.to)).toEqual(['v2@example.com', 'v3@example.com', 'v4@example.com']);
  });
});

describe('renderCodeEmail', () => {
  it('escapes the merchant name in HTML and keeps it on one line in the subject', () => {
    const email = renderCodeEmail({ code: CODE, merchantName: '<img src=x onerror=alert(1)> & "Co"\r\nBcc: eve@evil.example', expiresInMinutes: 1 });

    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Co&quot;');
    expect(email.html).not.toContain('<img');
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject).toBe(`Your verification code for <img src=x onerror=alert(1)> & "Co" Bcc: eve@evil.example: ${CODE}`);
    expect(email.text).toContain('It expires in 1 minute.');
  });
});

describe('redactEmail', () => {
  it('keeps the first letter and the domain only', () => {
    expect(redactEmail('alice@example.com')).toBe('a***@example.com');
    expect(redactEmail('a@example.com')).toBe('a***@example.com');
    expect(redactEmail('@example.com')).toBe('***@example.com');
    expect(redactEmail('not-an-address')).toBe('***');
  });
});
