import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, headless; `.ci/run` installs it when missing. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Screenshots land here (gitignored) for a person to look at after a run. */
export function artifactPath(name: string): string {
  mkdirSync('test-artifacts', { recursive: true });
  return `test-artifacts/${name}`;
}

/** Every Content-Security-Policy complaint the page logs: there must be none. */
export function collectCspViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

export interface StaticPageServer {
  origin: string;
  setHtml(html: string): void;
  close(): Promise<void>;
}

/** A one-page web server on a free loopback port, standing in for a helpdesk that frames the panel. */
export async function startStaticPage(hostname: '127.0.0.1' | 'localhost'): Promise<StaticPageServer> {
  let html = '<!DOCTYPE html><title>empty</title>';
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${hostname}:${port}`,
    setHtml: (next) => (html = next),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
