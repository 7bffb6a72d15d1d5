/**
 * What the card's buttons do. Every press goes through the host: portal links come from the
 * app-only tool card_portal_link and open with `ui/open-link` (the iframe is sandboxed and
 * must not navigate), Confirm/Cancel call card_confirm_request / card_cancel_request. A button
 * is disabled while its call is in flight, so a double press makes one call.
 */
import type { App } from '@modelcontextprotocol/ext-apps';
import { el } from './dom.js';
import type { CardMeta, RequestDecision } from './types.js';

export type PortalPurpose = 'manage' | 'update_card' | 'change_plan';
export type LinkKind = 'pdf' | 'pay' | 'view' | 'attention';
type CallToolResult = Awaited<ReturnType<App['callServerTool']>>;

const UNREACHABLE = 'The billing service could not be reached. Please try again.';
const NOT_OPENED = 'Your chat app did not open the link. Please try again.';

/** Only web pages open: a javascript: or data: URL from a tampered result never reaches the host. */
function openable(url: string | undefined): url is string {
  if (typeof url !== 'string') return false;
  try {
    return new URL(url).protocol === 'https:';
  } catch {
    return false;
  }
}

/** The text of an isError result: the server's own explanation, meant for the person. */
export function errorText(result: { content?: unknown }): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content
    .filter((block): block is { type: 'text'; text: string } => typeof block === 'object' && block !== null && block.type === 'text' && typeof block.text === 'string')
    .map((block) => block.text)
    .join('\n')
    .trim();
  return text || 'Something went wrong.';
}

/** An error shown under the buttons it is about; the next press clears it. */
export function showError(group: HTMLElement, message: string): void {
  clearError(group);
  group.after(el('p', { class: 'error', role: 'alert', 'data-error-for': group.dataset.group ?? 'actions' }, message));
}

function clearError(group: HTMLElement): void {
  const next = group.nextElementSibling;
  if (next instanceof HTMLElement && next.classList.contains('error')) next.remove();
}

function setBusy(buttons: readonly HTMLButtonElement[], busy: boolean): void {
  for (const button of buttons) {
    button.disabled = busy;
    if (busy) button.setAttribute('aria-busy', 'true');
    else button.removeAttribute('aria-busy');
  }
}

export class Actions {
  constructor(
    private readonly app: App,
    private readonly card: CardMeta | undefined,
  ) {}

  /** Whether portal buttons can work: they need the card-issued token of this result. */
  get canOpenPortal(): boolean {
    return typeof this.card?.token === 'string' && this.card.token.length > 0;
  }

  /** "Manage billing" / "Update card" / "Change plan": a fresh portal link for that purpose, opened by the host. */
  portalButton(purpose: PortalPurpose, label: string, subscriptionId: string | null): HTMLButtonElement | null {
    if (!this.canOpenPortal) return null;
    const button = el('button', { type: 'button', class: purpose === 'manage' ? 'primary' : 'secondary', 'data-action': purpose }, label);
    button.addEventListener('click', () => void this.openPortal(button, purpose, subscriptionId));
    return button;
  }

  private async openPortal(button: HTMLButtonElement, purpose: PortalPurpose, subscriptionId: string | null): Promise<void> {
    if (button.disabled) return;
    const group = button.closest<HTMLElement>('.actions') ?? button;
    clearError(group);
    setBusy([button], true);
    try {
      const result = await this.call('card_portal_link', { purpose, card: this.card!.token, subscription_id: subscriptionId });
      if (!result.ok) return showError(group, result.message);
      const url = (result.structured as { url?: unknown }).url;
      if (!openable(url as string)) return showError(group, 'No billing portal link came back. Please try again.');
      await this.open(url as string, group);
    } finally {
      setBusy([button], false);
    }
  }

  /** A button for an invoice's PDF, payment or view page; null when there is no usable URL. */
  linkButton(kind: LinkKind, label: string, url: string | undefined, accessibleName?: string): HTMLButtonElement | null {
    if (!openable(url)) return null;
    const button = el('button', { type: 'button', class: kind === 'attention' ? 'link inline' : 'link', 'data-link': kind, 'aria-label': accessibleName }, label);
    button.addEventListener('click', async () => {
      if (button.disabled) return;
      const group = button.closest<HTMLElement>('.actions') ?? button;
      clearError(group);
      setBusy([button], true);
      try {
        await this.open(url, group);
      } finally {
        setBusy([button], false);
      }
    });
    return button;
  }

  private async open(url: string, group: HTMLElement): Promise<void> {
    try {
      const opened = await this.app.openLink({ url });
      if (opened.isError) showError(group, NOT_OPENED);
    } catch {
      showError(group, NOT_OPENED);
    }
  }

  /**
   * Confirm or Cancel of one request, both disabled until the answer is in. `decided` gets the
   * server's answer (the request's new state); an error keeps the buttons for another try.
   */
  async decide(which: 'confirm' | 'cancel', token: string, buttons: readonly HTMLButtonElement[], group: HTMLElement, decided: (decision: RequestDecision) => void): Promise<void> {
    if (buttons.some((button) => button.disabled)) return;
    clearError(group);
    setBusy(buttons, true);
    let decision: RequestDecision | undefined;
    try {
      const result = await this.call(which === 'confirm' ? 'card_confirm_request' : 'card_cancel_request', { token });
      if (!result.ok) return showError(group, result.message);
      decision = result.structured as unknown as RequestDecision;
    } finally {
      // Left disabled when the answer replaces them (decided() re-renders the request).
      if (!decision) setBusy(buttons, false);
    }
    decided(decision);
  }

  private async call(name: string, args: Record<string, unknown>): Promise<{ ok: true; structured: Record<string, unknown> } | { ok: false; message: string }> {
    let result: CallToolResult;
    try {
      result = await this.app.callServerTool({ name, arguments: args });
    } catch {
      return { ok: false, message: UNREACHABLE };
    }
    if (result.isError) return { ok: false, message: errorText(result) };
    if (!result.structuredContent) return { ok: false, message: UNREACHABLE };
    return { ok: true, structured: result.structuredContent };
  }
}
