/**
 * The billing card: an MCP App (the `io.modelcontextprotocol/ui` extension) that hosts with Apps
 * support render inside the conversation in place of the text answer. One self-contained HTML
 * resource serves every view; each result says which view it is (`_meta["stripe-billing/card"]`).
 * The constants are the extension's (checked against @modelcontextprotocol/ext-apps by a test);
 * the server imports nothing of that package, so start-up does not load it.
 */
export const APPS_EXTENSION_ID = 'io.modelcontextprotocol/ui';
export const APP_RESOURCE_MIME_TYPE = 'text/html;profile=mcp-app';
/** The legacy flat key some hosts still read beside `_meta.ui.resourceUri`. */
export const LEGACY_RESOURCE_URI_KEY = 'ui/resourceUri';

export const BILLING_CARD_URI = 'ui://stripe-billing/billing-card.html';

/** What the card shows for a tool's result. */
export type CardView = 'overview' | 'invoices' | 'subscription' | 'plan_change' | 'request';

/** Where a result's card data travels: for the card, never for the model. */
export const CARD_META_KEY = 'stripe-billing/card';

/** What the card is handed beside the tool result. */
export interface CardMeta {
  view: CardView;
  /** The card-issued secret its portal buttons send back (card-grant.ts). */
  token: string;
  test_mode: boolean;
  expires_at: string;
}

/**
 * The resource's `_meta.ui`: the card fetches nothing (no connect or resource domains; its
 * script and styles are inline), and reads best framed.
 */
export const BILLING_CARD_UI_META = { csp: { connectDomains: [] as string[], resourceDomains: [] as string[] }, prefersBorder: true };

/** `_meta` of a tool that renders the card: the current key and the legacy one. */
export function cardToolMeta(): Record<string, unknown> {
  return { ui: { resourceUri: BILLING_CARD_URI }, [LEGACY_RESOURCE_URI_KEY]: BILLING_CARD_URI };
}

/** `_meta` of a tool only the card may call: hosts never list it to the model. */
export function appOnlyToolMeta(): Record<string, unknown> {
  return { ui: { visibility: ['app'] } };
}

/** The card's HTML (built by scripts/build-card.mjs), loaded on the first resources/read only. */
export async function billingCardHtml(): Promise<string> {
  const { BILLING_CARD_HTML } = await import('./billing-card-html.generated.js');
  return BILLING_CARD_HTML;
}

/** Whether a client declared the Apps extension (its `initialize` capabilities) with HTML cards. */
export function declaresApps(capabilities: { extensions?: Record<string, unknown> } | undefined): boolean {
  const ui = capabilities?.extensions?.[APPS_EXTENSION_ID] as { mimeTypes?: unknown } | undefined;
  if (ui === undefined || ui === null || typeof ui !== 'object') return false;
  // An empty declaration means the extension's default (HTML); a list must name it.
  return !Array.isArray(ui.mimeTypes) || ui.mimeTypes.includes(APP_RESOURCE_MIME_TYPE);
}
