/**
 * The test host page's script, bundled for the browser by apps-host.ts: what an MCP Apps host
 * does with a UI resource. The resource's HTML goes into an iframe sandboxed to scripts only (an
 * opaque origin: no cookies, no storage, no access to this page), under the CSP a host derives
 * from the resource's `_meta.ui.csp`; an AppBridge talks to it over postMessage, sends the tool's
 * input and result once the card says it is initialized, and hands the card's requests
 * (tools/call, ui/open-link) to the Node side through functions the test exposes.
 */
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';
import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * The host context a host sends (ext-apps' McpUiHostContext; its .d.ts re-exports the spec's
 * types without file extensions, which NodeNext resolution cannot follow, so the fields the
 * tests use are spelled out here).
 */
export interface McpUiHostContext {
  theme?: 'light' | 'dark';
  locale?: string;
  timeZone?: string;
  platform?: 'web' | 'desktop' | 'mobile';
  displayMode?: 'inline' | 'fullscreen' | 'pip';
  availableDisplayModes?: Array<'inline' | 'fullscreen' | 'pip'>;
  containerDimensions?: { maxWidth?: number; maxHeight?: number };
  styles?: { variables?: Record<string, string> };
  toolInfo?: { tool: unknown };
}

/** What the Node side passes to `cardHost.mount`. */
export interface MountOptions {
  /** The resource's HTML exactly as resources/read returned it. */
  html: string;
  /** The Content-Security-Policy the host puts in front of it. */
  csp: string;
  hostContext: McpUiHostContext;
  toolInput: Record<string, unknown>;
  toolResult: CallToolResult;
}

export interface CardHost {
  /** Frames the card; resolves once the card is initialized and has the tool's input and result. */
  mount(options: MountOptions): Promise<void>;
  /** A host-context change (the person switched the host's theme, say), as hosts send it. */
  changeHostContext(patch: McpUiHostContext): Promise<void>;
}

declare global {
  interface Window {
    /** Exposed by the test: the host's MCP client calls the tool on the server. */
    hostCallTool(params: CallToolRequest['params']): Promise<CallToolResult>;
    /** Exposed by the test: the host "opens" the link (records it). */
    hostOpenLink(url: string): Promise<void>;
    cardHost: CardHost;
  }
}

/** The resource's HTML with the host's CSP in a meta element at the top of its head. */
function withCsp(html: string, csp: string): string {
  const meta = `<meta http-equiv="Content-Security-Policy" content="${csp.replace(/"/g, '&quot;')}">`;
  const head = /<head(\s[^>]*)?>/i.exec(html);
  if (head) return html.slice(0, head.index + head[0].length) + meta + html.slice(head.index + head[0].length);
  return `<!DOCTYPE html><html><head>${meta}</head><body>${html}</body></html>`;
}

let bridge: AppBridge | undefined;
let context: McpUiHostContext = {};

window.cardHost = {
  async mount(options) {
    context = options.hostContext;
    const iframe = document.createElement('iframe');
    // Scripts only: no allow-same-origin, so the card runs in an opaque origin of its own.
    iframe.setAttribute('sandbox', 'allow-scripts');
    iframe.setAttribute('title', 'Billing card');
    iframe.id = 'card-frame';
    document.getElementById('host')!.append(iframe);

    // The bridge listens before the card loads: the card's ui/initialize is its first message.
    const contentWindow = iframe.contentWindow!;
    bridge = new AppBridge(null, { name: 'test-host', version: '1' }, { openLinks: {}, serverTools: {} }, { hostContext: context });
    bridge.oncalltool = (params) => window.hostCallTool(params);
    bridge.onopenlink = async ({ url }) => {
      await window.hostOpenLink(url);
      return {};
    };
    bridge.onsizechange = ({ height }) => {
      // The host grows the frame to the card's height; the width stays the host's.
      if (height !== undefined) iframe.style.height = `${height}px`;
    };
    const initialized = new Promise<void>((resolve) => (bridge!.oninitialized = () => resolve()));
    // The WindowProxy stays the same object when the frame navigates to its srcdoc.
    await bridge.connect(new PostMessageTransport(contentWindow, contentWindow));
    iframe.srcdoc = withCsp(options.html, options.csp);
    await initialized;
    await bridge.sendToolInput({ arguments: options.toolInput });
    await bridge.sendToolResult(options.toolResult);
  },
  async changeHostContext(patch) {
    context = { ...context, ...patch };
    // setHostContext sends only what changed, as a host-context-changed notification.
    bridge!.setHostContext(context);
  },
};
