/**
 * An MCP Apps host for the billing card's browser tests, built as hosts build theirs:
 * - the server is a real `serve --demo` process (the built dist/cli.js, actions on by the demo's
 *   policy), reached over Streamable HTTP by an MCP SDK client that declares the Apps extension
 *   and speaks for alice (the demo's host key and an identity token her site signed);
 * - the card's HTML comes from resources/read, the data from a real tools/call;
 * - a host page in headless Chromium (apps-host-page.ts, bundled here with esbuild) frames the
 *   HTML in an `allow-scripts`-only sandbox under the CSP the resource's `_meta.ui.csp` asks for
 *   and talks to it through ext-apps' AppBridge; the card's tools/call requests go to the same
 *   MCP client, its ui/open-link requests are recorded, and so is every request the browser makes.
 * Needs `npm run build` first (dist/cli.js) and Chromium (see browser.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolRequest, CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Frame, FrameLocator, Page } from 'playwright-core';
import { DEMO_CUSTOMER_EMAIL, DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, mintIdentityToken } from '../../src/demo/demo-identity.js';
import type { McpUiHostContext, MountOptions } from './apps-host-page.js';
import { collectCspViolations, launchChromium } from './browser.js';
import { startServeDemo, stopProcess, type ServedProcess } from './serve-process.js';

export const CARD_URI = 'ui://stripe-billing/billing-card.html';
export const CARD_MIME_TYPE = 'text/html;profile=mcp-app';
export const APPS_EXTENSION = 'io.modelcontextprotocol/ui';
export const CARD_META_KEY = 'stripe-billing/card';
export const CONFIRMATION_META_KEY = 'stripe-billing/confirmation';

/** What a UI resource may ask of the host's CSP (`_meta.ui.csp`). */
export interface ResourceCsp {
  connectDomains?: string[];
  resourceDomains?: string[];
  frameDomains?: string[];
  baseUriDomains?: string[];
}

/**
 * The CSP a host puts in front of a UI resource: nothing from anywhere but what `_meta.ui.csp`
 * declares. With no domains declared (the billing card) the card may run its inline script and
 * styles, show data: images, and reach no origin at all.
 */
export function hostCsp(csp: ResourceCsp = {}): string {
  const resources = (csp.resourceDomains ?? []).join(' ');
  const list = (...sources: string[]) => sources.filter(Boolean).join(' ') || "'none'";
  return [
    "default-src 'none'",
    `script-src ${list("'unsafe-inline'", resources)}`,
    `style-src ${list("'unsafe-inline'", resources)}`,
    `img-src ${list('data:', resources)}`,
    `font-src ${list(resources)}`,
    `media-src ${list('data:', resources)}`,
    `connect-src ${list(...(csp.connectDomains ?? []))}`,
    `frame-src ${list(...(csp.frameDomains ?? []))}`,
    "object-src 'none'",
    `base-uri ${list(...(csp.baseUriDomains ?? []))}`,
    "form-action 'none'",
  ].join('; ');
}

/** The host's style variables, as a host such as Claude passes them (a subset; the card has fallbacks for the rest). */
export const HOST_STYLES: Record<'light' | 'dark', Record<string, string>> = {
  light: {
    '--color-background-primary': '#ffffff',
    '--color-background-secondary': '#f5f4ef',
    '--color-text-primary': '#1f1e1d',
    '--color-text-secondary': '#5e5d59',
    '--color-border-primary': '#d8d6cf',
    '--font-sans': 'system-ui, sans-serif',
    '--border-radius-md': '8px',
  },
  dark: {
    '--color-background-primary': '#1f1e1d',
    '--color-background-secondary': '#2b2a27',
    '--color-text-primary': '#f5f4ef',
    '--color-text-secondary': '#bfbdb5',
    '--color-border-primary': '#3e3d39',
    '--font-sans': 'system-ui, sans-serif',
    '--border-radius-md': '8px',
  },
};

export interface ReadCard {
  html: string;
  mimeType: string | undefined;
  meta: { ui?: { csp?: ResourceCsp; prefersBorder?: boolean } } & Record<string, unknown>;
}

/** One tools/call the card made through the host, with the server's answer once it is in. */
export interface CardToolCall {
  name: string;
  arguments: Record<string, unknown>;
  result?: CallToolResult;
}

export interface CardPageOptions {
  theme?: 'light' | 'dark';
  locale?: string;
  timeZone?: string;
  /** The browser window's width; the card's frame fills it. */
  width?: number;
  height?: number;
  /** false: the host sends its theme without style variables (the card's own colours apply). */
  hostStyles?: boolean;
}

/** One browser page hosting the card for one tool result. */
export interface CardPage {
  page: Page;
  context: BrowserContext;
  /** The card's document, for locators. */
  card: FrameLocator;
  /** The card's frame, for evaluating in it. */
  frame(): Frame;
  /** tools/call requests the card sent through the host, in order. */
  toolCalls: CardToolCall[];
  /** URLs the card asked the host to open (ui/open-link), in order. */
  openedLinks: string[];
  /** Every request the browser context made after the host page was set (the card must make none). */
  requests: string[];
  /** Content-Security-Policy complaints in any frame. */
  cspViolations: string[];
  /** Everything logged to the console, for a failing test's message. */
  console: string[];
  /** Sends a host-context change, as a host does when the person switches its theme. */
  setTheme(theme: 'light' | 'dark'): Promise<void>;
  close(): Promise<void>;
}

export interface AppsHost {
  /** The `serve --demo` process's base URL. */
  url: string;
  served: ServedProcess;
  /** An MCP client that declares the Apps extension, speaking for alice. */
  client: Client;
  /** tools/list as that client sees it. */
  tools: Tool[];
  /** The card as resources/read returned it. */
  card: ReadCard;
  browser: Browser;
  /** tools/call as alice, through the Apps client. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** A new browser page hosting the card for this tool call and its result. */
  open(tool: { name: string; arguments: Record<string, unknown>; result: CallToolResult }, options?: CardPageOptions): Promise<CardPage>;
  close(): Promise<void>;
}

const HOST_PAGE_SCRIPT = fileURLToPath(new URL('./apps-host-page.ts', import.meta.url));
let hostPageScript: Promise<string> | undefined;

/** The host page's script for the browser, bundled once per test file. */
function bundledHostPage(): Promise<string> {
  hostPageScript ??= build({ entryPoints: [HOST_PAGE_SCRIPT], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'chrome120', logLevel: 'silent' }).then((result) =>
    // Inline in a <script> element: no "</script" may end it early.
    result.outputFiles[0]!.text.replace(/<\/script/gi, '<\\/script'),
  );
  return hostPageScript;
}

function hostPageHtml(script: string, theme: 'light' | 'dark'): string {
  const variables = HOST_STYLES[theme];
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>test host</title>
<style>html,body{margin:0;padding:0;background:${variables['--color-background-primary']};color-scheme:${theme}}#card-frame{display:block;width:100%;border:0;height:200px}</style>
</head><body><div id="host"></div><script>${script}</script></body></html>`;
}

/**
 * A new browser context and page hosting `card` for one tool call and its result: the host page
 * is set in place (no request), the card framed and initialized, its input and result sent.
 */
export async function openCardPage(
  browser: Browser,
  options: CardPageOptions & {
    card: ReadCard;
    tool: { name: string; arguments: Record<string, unknown>; result: CallToolResult };
    /** The tool's definition from tools/list, for the host context's toolInfo. */
    toolDefinition?: Tool | undefined;
    /** The host's MCP client: the card's tools/call requests go here. */
    callTool(params: CallToolRequest['params']): Promise<CallToolResult>;
  },
): Promise<CardPage> {
  const theme = options.theme ?? 'light';
  const width = options.width ?? 640;
  const script = await bundledHostPage();
  // The browser's own locale stays en-US: the card must format by the host's context, not by navigator.language.
  const context = await browser.newContext({ viewport: { width, height: options.height ?? 900 }, locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(8_000);
  const page = await context.newPage();
  const toolCalls: CardToolCall[] = [];
  const openedLinks: string[] = [];
  const requests: string[] = [];
  const consoleLines: string[] = [];
  const cspViolations = collectCspViolations(page);
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
  await page.exposeFunction('hostCallTool', async (params: CallToolRequest['params']) => {
    // Recorded when the card asks, not when the server answers: a second press is seen at once.
    const call: CardToolCall = { name: params.name, arguments: params.arguments ?? {} };
    toolCalls.push(call);
    call.result = await options.callTool(params);
    return call.result;
  });
  await page.exposeFunction('hostOpenLink', (url: string) => void openedLinks.push(url));
  await page.setContent(hostPageHtml(script, theme));
  // From here on, any request is the card's.
  context.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
  page.on('websocket', (socket) => requests.push(`WEBSOCKET ${socket.url()}`));
  const hostContext: McpUiHostContext = {
    theme,
    locale: options.locale ?? 'en-US',
    timeZone: options.timeZone ?? 'UTC',
    platform: 'web',
    displayMode: 'inline',
    availableDisplayModes: ['inline'],
    containerDimensions: { maxWidth: width, maxHeight: 2000 },
    ...(options.hostStyles === false ? {} : { styles: { variables: HOST_STYLES[theme] } }),
    ...(options.toolDefinition ? { toolInfo: { tool: options.toolDefinition } } : {}),
  };
  const mount: MountOptions = { html: options.card.html, csp: hostCsp(options.card.meta.ui?.csp), hostContext, toolInput: options.tool.arguments, toolResult: options.tool.result };
  // A card that never initializes fails here with what it logged, not with a bare test timeout.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the card did not complete ui/initialize within 10 s; it logged:\n${consoleLines.join('\n')}`)), 10_000);
  });
  try {
    await Promise.race([page.evaluate((mountOptions) => window.cardHost.mount(mountOptions), mount), stuck]);
  } finally {
    clearTimeout(timer);
  }
  return {
    page,
    context,
    card: page.frameLocator('#card-frame'),
    frame: () => {
      const found = page.frames().find((candidate) => candidate !== page.mainFrame());
      if (!found) throw new Error('the card’s frame is gone');
      return found;
    },
    toolCalls,
    openedLinks,
    requests,
    cspViolations,
    console: consoleLines,
    async setTheme(next) {
      await page.evaluate(
        ({ next, variables, withStyles }) => {
          document.documentElement.style.colorScheme = next;
          document.body.style.background = variables['--color-background-primary'] ?? '';
          return window.cardHost.changeHostContext({ theme: next, ...(withStyles ? { styles: { variables } } : {}) });
        },
        { next, variables: HOST_STYLES[next], withStyles: options.hostStyles !== false },
      );
    },
    close: () => context.close(),
  };
}

/** Starts `serve --demo`, connects an Apps-capable MCP client as alice, reads the card and launches Chromium. */
export async function startAppsHost(options: { env?: Record<string, string>; conversation?: string } = {}): Promise<AppsHost> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sbm-apps-host-'));
  const served = await startServeDemo({ XDG_DATA_HOME: dataDir, ...options.env });
  let browser: Browser | undefined;
  let client: Client | undefined;
  try {
    const identity = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET, 3600);
    const headers = { authorization: `Bearer ${DEMO_HOST_KEY}`, 'x-customer-token': identity, 'x-conversation-id': options.conversation ?? 'apps-host-chat' };
    client = new Client({ name: 'test-host', version: '1' }, { capabilities: { extensions: { [APPS_EXTENSION]: { mimeTypes: [CARD_MIME_TYPE] } } } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${served.url}/mcp`), { requestInit: { headers } }));
    const { tools } = await client.listTools();
    const read = await client.readResource({ uri: CARD_URI });
    const content = read.contents[0];
    if (!content || !('text' in content)) throw new Error(`resources/read ${CARD_URI} returned no text content: ${JSON.stringify(read).slice(0, 300)}`);
    const card: ReadCard = { html: content.text, mimeType: content.mimeType, meta: (content._meta ?? {}) as ReadCard['meta'] };
    browser = await launchChromium();
    const mcp = client;
    const launched = browser;

    return {
      url: served.url,
      served,
      client: mcp,
      tools,
      card,
      browser: launched,
      call: async (name, args = {}) => (await mcp.callTool({ name, arguments: args })) as CallToolResult,
      open: (tool, pageOptions = {}) =>
        openCardPage(launched, {
          card,
          tool,
          toolDefinition: tools.find((candidate) => candidate.name === tool.name),
          callTool: async (params) => (await mcp.callTool(params)) as CallToolResult,
          ...pageOptions,
        }),
      async close() {
        await launched.close();
        await mcp.close();
        await stopProcess(served.child);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close();
    await client?.close().catch(() => {});
    await stopProcess(served.child);
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
