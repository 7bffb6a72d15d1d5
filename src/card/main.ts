/**
 * The billing card: an MCP App (io.modelcontextprotocol/ui) the host renders in a sandboxed
 * iframe next to a tool result. Its only data is that result, sent by the host
 * (`ui/notifications/tool-result`); it looks like the host (theme, style variables, fonts) and
 * writes amounts and dates in the person's locale and time zone. The server's
 * `_meta["stripe-billing/card"]` says which view to draw and carries the token the portal
 * buttons send back. Built into one HTML file by scripts/build-card.mjs.
 */
import { App, applyDocumentTheme, applyHostFonts, applyHostStyleVariables } from '@modelcontextprotocol/ext-apps';
import { SERVER_VERSION } from '../version.js';
import { Actions, errorText } from './actions.js';
import { el } from './dom.js';
import type { Locale } from './format.js';
import type { RenderContext } from './render-common.js';
import { renderInvoices } from './render-invoices.js';
import { renderOverview } from './render-overview.js';
import { renderPlanChange } from './render-plan-change.js';
import { forgetDecisions, renderRequest } from './render-request.js';
import { renderSubscription } from './render-subscription.js';
import type { CardMeta, CardView, ConfirmationMeta } from './types.js';

type HostContext = ReturnType<App['getHostContext']>;
type ToolResult = Parameters<NonNullable<App['ontoolresult']>>[0];

const VIEWS: Record<CardView, (data: never, context: RenderContext) => HTMLElement[]> = {
  overview: renderOverview,
  invoices: renderInvoices,
  subscription: renderSubscription,
  plan_change: renderPlanChange,
  request: renderRequest,
};

const isView = (value: unknown): value is CardView => typeof value === 'string' && Object.hasOwn(VIEWS, value);

/** The card's `_meta`, when it is well formed; anything else is treated as absent. */
function cardMeta(result: ToolResult): CardMeta | undefined {
  const meta = result._meta?.['stripe-billing/card'] as Partial<CardMeta> | undefined;
  return meta && isView(meta.view) ? (meta as CardMeta) : undefined;
}

function confirmationMeta(result: ToolResult): ConfirmationMeta | undefined {
  const meta = result._meta?.['stripe-billing/confirmation'] as Partial<ConfirmationMeta> | undefined;
  return meta && typeof meta.request_id === 'string' && typeof meta.token === 'string' ? (meta as ConfirmationMeta) : undefined;
}

/** Without the card's `_meta` (a host that strips it), the view follows from the output's shape. */
function viewOf(data: Record<string, unknown>, meta: CardMeta | undefined): CardView | undefined {
  if (meta) return meta.view;
  if ('recent_invoices' in data || 'payment_method' in data) return 'overview';
  if ('invoices' in data) return 'invoices';
  if ('proration_behavior' in data) return 'plan_change';
  if ('request' in data || 'requests' in data) return 'request';
  if ('subscriptions' in data) return 'subscription';
  return undefined;
}

const root = document.querySelector('main') ?? document.body.appendChild(el('main'));
const app = new App({ name: 'stripe-billing-card', version: SERVER_VERSION }, {}, { autoResize: true });
let where: Locale = {};
let current: ToolResult | undefined;

function render(): void {
  const result = current;
  if (!result) return;
  const card = cardMeta(result);
  const data = result.structuredContent;
  const view = data && !result.isError ? viewOf(data, card) : undefined;
  root.removeAttribute('aria-busy');
  if (!data || !view || result.isError) {
    // A refusal or failure comes as text only: the server's own words, for the person.
    root.dataset.view = card?.view ?? 'error';
    root.replaceChildren(el('div', { class: 'callout bad', role: 'alert' }, result.isError ? errorText(result) : 'There is nothing to show for this answer.'));
    return;
  }
  const context: RenderContext = { where, actions: new Actions(app, card), card, confirmation: confirmationMeta(result) };
  root.dataset.view = view;
  try {
    root.replaceChildren(...VIEWS[view](data as never, context));
  } catch {
    root.replaceChildren(el('div', { class: 'callout bad', role: 'alert' }, 'This billing card could not be shown. The answer in the chat has the same details.'));
  }
}

/** Theme, style variables and fonts from the host; a new locale or time zone redraws the amounts and dates. */
function applyHostContext(context: HostContext): void {
  if (!context) return;
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
  const next: Locale = { locale: context.locale ?? where.locale, timeZone: context.timeZone ?? where.timeZone };
  if (next.locale !== where.locale || next.timeZone !== where.timeZone) {
    where = next;
    render();
  }
}

// Handlers first: the host may send the result right after the handshake.
app.ontoolresult = (result) => {
  current = result;
  forgetDecisions();
  render();
};
app.ontoolcancelled = () => {
  if (current) return;
  root.removeAttribute('aria-busy');
  root.dataset.view = 'canceled';
  root.replaceChildren(el('p', { class: 'muted' }, 'This request was stopped before it finished.'));
};
app.onhostcontextchanged = (changed) => applyHostContext(changed);

void app.connect().then(
  () => applyHostContext(app.getHostContext()),
  () => {
    root.removeAttribute('aria-busy');
    root.dataset.view = 'error';
    root.replaceChildren(el('div', { class: 'callout bad', role: 'alert' }, 'This billing card could not connect to the chat app.'));
  },
);
