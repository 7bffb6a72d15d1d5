/**
 * The panel's HTML, server-rendered with hono/jsx (which escapes every value). No inline script
 * or style: behaviour comes from /panel/assets/panel.js, looks from /panel/assets/panel.css.
 */
import type { Child } from 'hono/jsx';
import { approvalBecause, previewSummary } from '../../actions/request-preview.js';
import type { ActionRequest, RequestKind } from '../../actions/requests.js';
import type { DisclosureView, Disclosures } from '../../audit/disclosures.js';
import type { CustomerOverview, OverviewSection } from '../../tools/lib/customer-overview.js';
import type { Insight, InsightQuery } from '../insight.js';

const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : '—');
/** `2026-10-11T09:30:00.000Z` → `2026-10-11 09:30` (UTC). */
const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
/** Stripe's invoice links are https; anything else (a `javascript:` URL in tampered data) is no link. */
const httpsOnly = (url: string) => (url.startsWith('https://') ? url : undefined);

/**
 * An amount of money. Marked so that tests can check every amount is on screen at every width;
 * kept on one line, so "$1,234.00" never breaks. A `phrase` ("$49.00 per month") may wrap.
 */
function Amount(props: { children: string; phrase?: boolean }) {
  return (
    <span class={props.phrase ? undefined : 'amount'} data-amount>
      {props.children}
    </span>
  );
}

/** The query a link or form carries forward: which email, record and chat the agent is on. */
export function panelSearch(query: Partial<InsightQuery>): string {
  const params = new URLSearchParams();
  for (const key of ['email', 'customer', 'conversation', 'host'] as const) {
    const value = query[key];
    if (value) params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function Layout(props: { title: string; mode: 'test' | 'live' | undefined; frameAncestors: readonly string[]; csrf?: string; staff?: string; host?: string | undefined; requestsLink?: boolean; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <link rel="icon" href="data:," />
        <title>{props.title}</title>
        <link rel="stylesheet" href="/panel/assets/panel.css" />
        <script src="/panel/assets/panel.js" defer></script>
      </head>
      <body data-frame-ancestors={JSON.stringify(props.frameAncestors)} data-csrf={props.csrf ?? ''} data-host={props.host ?? ''}>
        <header class="topbar">
          <span class="brand">Billing insight</span>
          <ModeBadge mode={props.mode} />
          {props.staff && props.requestsLink ? (
            <nav class="panel-nav" aria-label="Panel">
              <a href="/panel">Look up</a>
              <a href="/panel/requests">Requests</a>
            </nav>
          ) : null}
          {props.staff ? (
            <form class="signout" method="post" action="/panel/sign-out">
              <input type="hidden" name="csrf" value={props.csrf ?? ''} />
              <span class="who">Signed in as {props.staff}</span>
              <button type="submit" class="link-button">Sign out</button>
            </form>
          ) : null}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/** Test or live data; none before sign-in in platform mode, where the merchant is not known yet. */
function ModeBadge(props: { mode: 'test' | 'live' | undefined }) {
  if (props.mode === undefined) return null;
  return props.mode === 'live' ? (
    <span class="badge live" data-testid="mode-badge">Live data</span>
  ) : (
    <span class="badge test" data-testid="mode-badge">Test data</span>
  );
}

export function SignInPage(props: { error?: string | undefined; returnTo: string }) {
  return (
    <section class="card narrow" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <p class="muted">Use your staff key (from STAFF_KEYS). It is checked once and never stored in the browser.</p>
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/panel/sign-in" class="stack">
        <input type="hidden" name="return_to" value={props.returnTo} />
        <label for="key">Staff key</label>
        <input id="key" name="key" type="password" autocomplete="off" required />
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}

export function LookupForm(props: { query: Partial<InsightQuery> }) {
  return (
    <form class="lookup" method="get" action="/panel" role="search" data-lookup>
      <label for="email">Customer email</label>
      <div class="row">
        <input id="email" name="email" type="email" inputmode="email" autocomplete="off" required value={props.query.email ?? ''} placeholder="customer@example.com" />
        {props.query.conversation ? <input type="hidden" name="conversation" value={props.query.conversation} /> : null}
        {props.query.host ? <input type="hidden" name="host" value={props.query.host} /> : null}
        <button type="submit">Look up</button>
      </div>
    </form>
  );
}

export function PanelPage(props: { query: Partial<InsightQuery>; insight: Insight | undefined; csrf: string; portalAvailable: boolean; problem?: string | undefined; requests?: ActionRequest[] | undefined }) {
  return (
    <>
      <LookupForm query={props.query} />
      <p id="chatwoot-status" class="badge-row" hidden></p>
      <section id="insight" aria-live="polite" aria-busy="false">
        {props.problem ? (
          <p class="notice error" role="alert">
            {props.problem}
          </p>
        ) : props.insight ? (
          <InsightView insight={props.insight} query={props.query} csrf={props.csrf} portalAvailable={props.portalAvailable} requests={props.requests} />
        ) : (
          <p class="notice muted">Type a customer’s email to see their billing.</p>
        )}
      </section>
    </>
  );
}

export function InsightView(props: { insight: Insight; query: Partial<InsightQuery>; csrf: string; portalAvailable: boolean; requests?: ActionRequest[] | undefined }) {
  const { insight } = props;
  if (insight.status === 'error') {
    return (
      <p class="notice error" role="alert" data-testid="insight-error">
        {insight.message}
      </p>
    );
  }
  if (insight.status === 'not_found') {
    return (
      <p class="notice empty" data-testid="insight-empty">
        {insight.message}
      </p>
    );
  }
  const { overview } = insight;
  const record = insight.records.find((candidate) => candidate.id === insight.selected)!;
  const missing: Missing = (section) => {
    const notice = insight.unavailable.find((candidate) => candidate.section === section);
    return notice ? (
      <p class="notice" role="note" data-testid={`unavailable-${section}`}>
        {notice.message}
      </p>
    ) : undefined;
  };
  return (
    <div class="insight" data-testid="insight">
      {insight.records.length > 1 ? (
        <nav class="card picker" aria-label="Customer records with this email">
          <h2>{insight.records.length} Stripe customers share this email</h2>
          <ul>
            {insight.records.map((candidate) => (
              <li>
                <a
                  href={`/panel${panelSearch({ ...props.query, customer: candidate.id })}`}
                  data-nav
                  aria-current={candidate.id === insight.selected ? 'true' : undefined}
                  class={candidate.id === insight.selected ? 'record selected' : 'record'}
                >
                  <span class="record-name">{candidate.name ?? 'No name'}</span>
                  <span class="muted">
                    {candidate.id} · {candidate.email ?? ''} · since {day(candidate.created)}
                  </span>
                </a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}

      <section class="card customer" aria-labelledby="customer-name">
        <h2 id="customer-name">{record.name ?? overview.customer.name ?? 'No name on file'}</h2>
        <p class="muted">
          <span data-testid="customer-email">{record.email ?? insight.email}</span> · <code>{record.id}</code> · customer since {day(record.created)}
        </p>
        {insight.conversation ? (
          <p class="badge-row">
            <span class={insight.conversation.email_verified ? 'badge ok' : 'badge warn'} data-testid="conversation-badge">
              {insight.conversation.note}
            </span>
          </p>
        ) : null}
        {insight.code_verification_lock ? (
          <p class="notice" role="note" data-testid="code-lock">
            Email codes are locked until <time datetime={insight.code_verification_lock.until}>{minute(insight.code_verification_lock.until)} UTC</time>.{' '}
            {insight.code_verification_lock.note}
          </p>
        ) : null}
      </section>

      <Attention overview={overview} />
      <Subscriptions overview={overview} missing={missing} />

      <div class="grid">
        <section class="card" aria-labelledby="pm-title">
          <h2 id="pm-title">Payment method</h2>
          {missing('payment_method') ?? <p data-testid="payment-method">{overview.payment_method.description}</p>}
        </section>
        <section class="card" aria-labelledby="balance-title">
          <h2 id="balance-title">Credit balance</h2>
          {missing('balance') ?? (overview.balances.length === 0 ? (
            <p data-testid="balance">No credit and nothing owed.</p>
          ) : (
            <ul class="plain" data-testid="balance">
              {overview.balances.map((balance) => (
                <li>
                  <Amount>{balance.amount.formatted}</Amount> {balance.kind === 'credit' ? 'credit' : 'owed'}
                </li>
              ))}
            </ul>
          ))}
        </section>
      </div>

      <Invoices overview={overview} missing={missing} />
      <Problems overview={overview} missing={missing} />
      {props.requests ? <CustomerRequests requests={props.requests} /> : null}
      {insight.assistant_disclosures ? <AssistantDisclosures disclosures={insight.assistant_disclosures} /> : null}

      {props.portalAvailable ? (
        <section class="card" aria-labelledby="actions-title">
          <h2 id="actions-title">Actions</h2>
          <form method="post" action="/panel/portal-link" data-portal class="stack">
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="customer" value={record.id} />
            <button type="submit">Copy billing-portal link</button>
          </form>
          <div class="portal-result" hidden data-portal-result>
            <label for="portal-url">Billing-portal link (personal, short-lived: give it only to this customer)</label>
            <input id="portal-url" type="text" readonly />
            <p class="muted" role="status" data-portal-status></p>
          </div>
        </section>
      ) : null}
    </div>
  );
}

const SURFACE_LABELS: Record<string, string> = { stdio: 'Desktop assistant (stdio)', mcp: 'Chatbot (MCP)', tools: 'Chatbot (JSON API)', panel: 'Panel', insight: 'Insight API' };

function verificationLabel(record: DisclosureView): string {
  if (record.principal === 'staff') return `Staff (${record.caller ?? 'staff key'})`;
  if (record.principal === 'unverified') return 'Not verified';
  if (record.verified_by === 'identity-token') return record.issuer ? `Identity token from ${record.issuer}` : 'Identity token';
  if (record.verified_by === 'email-code') return 'Emailed code';
  return 'UNVERIFIED: typed email only (trust-email)';
}

/** `get_subscription_status` may wrap after an underscore, not between any two letters. */
function breakAfterUnderscores(name: string): Child[] {
  return name.split(/(?<=_)/).flatMap((part, index) => (index === 0 ? [part] : [<wbr />, part]));
}

/** The audit trail's last 20 records of the assistant about this email: what it showed and why it believed who it was talking to. */
function AssistantDisclosures(props: { disclosures: Disclosures }) {
  const { disclosures } = props;
  return (
    <section class="card" aria-labelledby="disclosures-title" data-testid="disclosures">
      <h2 id="disclosures-title">What the assistant showed</h2>
      {!disclosures.available ? (
        <p class="notice" role="note">
          {disclosures.message}
        </p>
      ) : disclosures.records.length === 0 ? (
        <p class="muted">The assistant has not shown this customer's billing data.</p>
      ) : (
        <table class="stacking audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Where</th>
              <th scope="col">Verified by</th>
              <th scope="col">Tool</th>
              <th scope="col">Shown</th>
            </tr>
          </thead>
          <tbody>
            {disclosures.records.map((record) => (
              <tr data-testid="disclosure" class={record.unverified ? 'unverified' : undefined}>
                <td data-label="When">
                  <span class="nowrap">{day(record.at)}</span> <span class="nowrap">{minute(record.at).slice(11)} UTC</span>
                </td>
                <td data-label="Where">{SURFACE_LABELS[record.surface ?? ''] ?? record.surface}</td>
                <td data-label="Verified by">{verificationLabel(record)}</td>
                <td data-label="Tool">
                  <code>{breakAfterUnderscores(record.tool ?? '')}</code>
                </td>
                <td data-label="Shown">
                  {record.outcome === 'ok'
                    ? [...record.disclosed, ...(record.write ? [`(${record.write.replaceAll('_', ' ')})`] : [])].join(', ').replaceAll('_', ' ') || 'nothing'
                    : `nothing (${record.outcome}: ${(record.reason ?? '').replaceAll('_', ' ')})`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

type PaymentFailure = CustomerOverview['payment_failures'][number];

/** A failed payment as get_payment_problem finds it (the same function), laid out for an agent. */
function PaymentFailureItem(props: { problem: PaymentFailure }) {
  const { problem } = props;
  const amount = problem.amount_due ? (
    <strong>
      <Amount>{problem.amount_due.formatted}</Amount>
    </strong>
  ) : null;
  const attempts = problem.attempts ? `: ${problem.attempts} failed attempt${problem.attempts === 1 ? '' : 's'}` : '';
  const last = problem.failed_at ? `${attempts ? ',' : ':'} last on ${day(problem.failed_at)}` : '';
  return (
    <li data-testid="payment-failure">
      {problem.invoice ? (
        <>
          Invoice {problem.invoice.number ?? problem.invoice.id} for {amount} is past due{attempts}
          {last}.{' '}
        </>
      ) : problem.kind === 'payment' ? (
        <>A payment of {amount} failed{last}. </>
      ) : null}
      {problem.subscription ? `${problem.subscription.plan} is ${problem.subscription.status.replace('_', ' ')}. ` : ''}
      <span data-testid="failure-reason">{problem.reason}</span> {problem.retry_note} {problem.what_to_do}
      {problem.seller_message || problem.risk_level ? (
        <span class="muted" data-testid="failure-staff">
          {' '}
          {problem.seller_message ? `Stripe’s note: ${problem.seller_message}.` : ''} {problem.risk_level ? `Risk level: ${problem.risk_level}.` : ''}
        </span>
      ) : null}{' '}
      {problem.pay_url ? (
        <a href={httpsOnly(problem.pay_url)} target="_blank" rel="noopener noreferrer" data-testid="pay-link">
          Payment page for the customer
        </a>
      ) : null}
    </li>
  );
}

function Attention(props: { overview: CustomerOverview }) {
  const { overview } = props;
  const failures = overview.payment_failures;
  // An invoice whose payment failed is shown with its failure; the others (not yet due, paid by transfer) as before.
  const explained = new Set(failures.flatMap((problem) => (problem.invoice ? [problem.invoice.id] : [])));
  const otherUnpaid = overview.unpaid_invoices.filter((invoice) => !explained.has(invoice.id));
  if (failures.length === 0 && otherUnpaid.length === 0) return null;
  return (
    <section class="card alert" aria-labelledby="attention-title" data-testid="attention">
      <h2 id="attention-title">Needs attention</h2>
      <ul class="plain">
        {failures.map((problem) => (
          <PaymentFailureItem problem={problem} />
        ))}
        {otherUnpaid.map((invoice) => (
          <li>
            Invoice {invoice.number ?? invoice.id} for{' '}
            <strong>
              <Amount>{invoice.amount_remaining.formatted}</Amount>
            </strong>{' '}
            is {invoice.past_due ? 'past due' : 'unpaid'}
            {invoice.due_date ? ` (due ${day(invoice.due_date)})` : ''}.{' '}
            {invoice.hosted_invoice_url ? (
              <a href={httpsOnly(invoice.hosted_invoice_url)} target="_blank" rel="noopener noreferrer" data-testid="pay-link">
                Payment page for the customer
              </a>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

type BreakdownData = NonNullable<NonNullable<CustomerOverview['subscriptions'][number]['next_payment']>['breakdown']>;

/** How the next amount follows: the invoice preview's lines, discounts, tax and credit, adding up to the amount due. */
function Breakdown(props: { breakdown: BreakdownData }) {
  const b = props.breakdown;
  const rows: Array<[string, string]> = [
    ...b.lines.map((line): [string, string] => [line.description, line.amount.formatted]),
    ...b.discounts.map((discount): [string, string] => [discount.name, discount.amount.formatted]),
    ...(b.tax ? [['Tax', b.tax.formatted] as [string, string]] : []),
    ...(b.credit_applied ? [['Account credit', b.credit_applied.formatted] as [string, string]] : []),
    ...(b.balance_added ? [['Earlier balance', b.balance_added.formatted] as [string, string]] : []),
  ];
  return (
    <table class="breakdown" data-testid="breakdown">
      <tbody>
        {rows.map(([label, amount]) => (
          <tr>
            <td>{label}</td>
            <td class="num">
              <Amount>{amount}</Amount>
            </td>
          </tr>
        ))}
        <tr class="total">
          <td>Due next</td>
          <td class="num">
            <Amount>{b.amount_due.formatted}</Amount>
          </td>
        </tr>
      </tbody>
      <caption class="muted">{b.tax_note}</caption>
    </table>
  );
}

/** A part that could not be loaded: its notice (what is missing and who can fix it) instead of its content. */
type Missing = (section: OverviewSection) => Child | undefined;

function Subscriptions(props: { overview: CustomerOverview; missing: Missing }) {
  const { overview } = props;
  return (
    <section class="card" aria-labelledby="subs-title">
      <h2 id="subs-title">Subscription</h2>
      {props.missing('subscriptions') ?? (overview.subscriptions.length === 0 ? (
        <p>No subscriptions.</p>
      ) : (
        <ul class="plain subs">
          {overview.subscriptions.map((sub) => (
            <li data-testid="subscription">
              <div class="sub-head">
                <strong>{sub.plan}</strong> <span class={`status status-${sub.status}`}>{sub.status.replace('_', ' ')}</span>
              </div>
              <p data-testid="price">
                <Amount phrase>{sub.price}</Amount>
              </p>
              {sub.discounts.map((discount) => (
                <p data-testid="discount">
                  Discount <strong>{discount.name}</strong>: <Amount phrase>{discount.off}</Amount>, {discount.lasts}
                </p>
              ))}
              {sub.next_payment ? (
                <p>
                  Next billing: <strong data-testid="next-billing">{day(sub.next_payment.date)}</strong>, <Amount>{sub.next_payment.amount.formatted}</Amount>
                </p>
              ) : null}
              {sub.next_payment?.breakdown ? <Breakdown breakdown={sub.next_payment.breakdown} /> : null}
              <p class="muted">{sub.note}</p>
            </li>
          ))}
        </ul>
      ))}
      {props.missing('upcoming') ?? null}
      {overview.upcoming_invoice ? (
        <p class="muted">
          Upcoming invoice: <Amount>{overview.upcoming_invoice.amount_due.formatted}</Amount> on {day(overview.upcoming_invoice.date)}
        </p>
      ) : null}
    </section>
  );
}

function Invoices(props: { overview: CustomerOverview; missing: Missing }) {
  const invoices = props.overview.recent_invoices;
  return (
    <section class="card" aria-labelledby="invoices-title">
      <h2 id="invoices-title">Last invoices</h2>
      {props.missing('invoices') ?? (invoices.length === 0 ? (
        <p>No invoices.</p>
      ) : (
        <div class="table-wrap">
          <table class="stacking" data-testid="invoices">
            <thead>
              <tr>
                <th scope="col">Invoice</th>
                <th scope="col">Date</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">Amount</th>
                <th scope="col">Links</th>
              </tr>
            </thead>
            <tbody>
              {invoices.map((invoice) => (
                <tr>
                  <td data-label="Invoice">{invoice.number ?? 'Draft'}</td>
                  <td data-label="Date">{day(invoice.created)}</td>
                  <td data-label="Status">
                    <span class={`status status-${invoice.status}`}>{invoice.status}</span>
                  </td>
                  <td class="num" data-label="Amount">
                    <Amount>{invoice.total.formatted}</Amount>
                  </td>
                  <td class="links" data-label="Links">
                    {invoice.invoice_pdf ? (
                      <a href={httpsOnly(invoice.invoice_pdf)} target="_blank" rel="noopener noreferrer">
                        PDF
                      </a>
                    ) : null}
                    {invoice.hosted_invoice_url ? (
                      <a href={httpsOnly(invoice.hosted_invoice_url)} target="_blank" rel="noopener noreferrer">
                        Online
                      </a>
                    ) : null}
                    {!invoice.invoice_pdf && !invoice.hosted_invoice_url ? <span class="muted">not finalized</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </section>
  );
}

function Problems(props: { overview: CustomerOverview; missing: Missing }) {
  const problems = props.overview.payment_problems;
  return (
    <section class="card" aria-labelledby="problems-title">
      <h2 id="problems-title">Failed payments and refunds</h2>
      {props.missing('payments') ?? (problems.length === 0 ? (
        <p>None recently.</p>
      ) : (
        <ul class="plain" data-testid="problems">
          {problems.map((problem) => (
            <li>
              <span class={problem.kind === 'failed' ? 'status status-failed' : 'status status-refunded'}>{problem.kind}</span> {day(problem.date)} · <Amount>{problem.amount.formatted}</Amount> · {problem.detail}
            </li>
          ))}
        </ul>
      ))}
    </section>
  );
}

/** A request's amount as the customer was shown it, or nothing (a pause has none). */
function requestAmount(request: ActionRequest): string | undefined {
  const amount = request.preview.amount as { formatted?: unknown } | undefined;
  return typeof amount?.formatted === 'string' ? amount.formatted : undefined;
}

const STATE_LABELS: Record<ActionRequest['state'], string> = {
  awaiting_confirmation: 'awaiting the customer',
  awaiting_approval: 'awaiting approval',
  executing: 'being carried out',
  done: 'done',
  failed: 'failed',
  denied: 'denied',
  expired: 'expired',
  canceled: 'canceled',
};

function RequestState(props: { request: ActionRequest }) {
  const state = props.request.state;
  const tone = state === 'done' ? 'status-paid' : state === 'failed' || state === 'denied' ? 'status-failed' : state === 'awaiting_approval' ? 'status-open' : '';
  return (
    <span class={`status ${tone}`} data-testid="request-state">
      {STATE_LABELS[state]}
    </span>
  );
}

/** A waiting request's heading: a Record, so a new kind cannot fall through to another's title. */
const KIND_TITLES: Record<RequestKind, string> = {
  refund: 'Refund',
  credit: 'Account credit',
  pause: 'Pause',
  resume: 'Resume',
  plan_change: 'Plan change',
  retry_payment: 'Invoice payment',
};

/** The cells both request tables share: when, what, its state and what came of it. */
function MinuteCell(props: { label: string; iso: string }) {
  return (
    <td data-label={props.label}>
      <span class="nowrap">{minute(props.iso)} UTC</span>
    </td>
  );
}

function SummaryCell(props: { request: ActionRequest }) {
  return (
    <td data-label="Request" class="wrap">
      {previewSummary(props.request)}
    </td>
  );
}

function StateCell(props: { request: ActionRequest }) {
  return (
    <td data-label="State">
      <RequestState request={props.request} />
    </td>
  );
}

function OutcomeCell(props: { request: ActionRequest }) {
  return (
    <td data-label="Outcome" class="wrap">
      {requestOutcome(props.request)}
    </td>
  );
}

/** What came of a settled request: the Stripe object, Stripe's refusal in our words, or the staff note. */
function requestOutcome(request: ActionRequest): string {
  if (request.state === 'done') return request.stripe_object_id ? `Stripe ${request.stripe_object_id}` : 'done';
  if (request.state === 'failed') return request.failure_reason ?? 'Stripe refused it.';
  return request.note ?? '';
}

/** The customer page's list of this customer's action requests (refunds, credits, pauses). */
function CustomerRequests(props: { requests: ActionRequest[] }) {
  const waiting = props.requests.some((request) => request.state === 'awaiting_approval');
  return (
    <section class="card" aria-labelledby="requests-title" data-testid="customer-requests">
      <h2 id="requests-title">Requests</h2>
      {props.requests.length === 0 ? (
        <p class="muted">No refund, credit or pause requests.</p>
      ) : (
        <div class="table-wrap">
          <table class="stacking">
            <thead>
              <tr>
                <th scope="col">Created</th>
                <th scope="col">Request</th>
                <th scope="col" class="num">Amount</th>
                <th scope="col">State</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {props.requests.map((request) => (
                <tr data-testid="customer-request">
                  <MinuteCell label="Created" iso={request.created_at} />
                  <SummaryCell request={request} />
                  <td class="num" data-label="Amount">
                    {requestAmount(request) ? <Amount>{requestAmount(request)!}</Amount> : '—'}
                  </td>
                  <StateCell request={request} />
                  <OutcomeCell request={request} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {waiting ? (
        <p>
          <a href="/panel/requests">Approve or deny waiting requests</a>
        </p>
      ) : null}
    </section>
  );
}

export interface PanelNotice {
  kind: 'ok' | 'error';
  text: string;
}

/** The approval queue: requests beyond the policy's auto_approve, each with Approve and Deny, and the recently settled ones. */
export function RequestsPage(props: { waiting: ActionRequest[]; recent: ActionRequest[]; csrf: string; staff: string; notice?: PanelNotice | undefined }) {
  const me = `staff:${props.staff}`;
  return (
    <>
      <h1>Requests</h1>
      {props.notice ? (
        <p class={props.notice.kind === 'error' ? 'notice error' : 'notice done'} role={props.notice.kind === 'error' ? 'alert' : 'status'} data-testid="request-notice">
          {props.notice.text}
        </p>
      ) : null}
      <section aria-labelledby="waiting-title">
        <h2 id="waiting-title">Waiting for approval ({props.waiting.length})</h2>
        {props.waiting.length === 0 ? <p class="notice muted">No request is waiting for approval.</p> : null}
        {props.waiting.map((request) => {
          const because = approvalBecause(request);
          const amount = requestAmount(request);
          return (
            <article class="card request" id={request.id} data-testid="waiting-request" aria-labelledby={`${request.id}-title`}>
              <h3 id={`${request.id}-title`}>
                {KIND_TITLES[request.kind]}
                {amount ? (
                  <>
                    {' '}
                    <Amount>{amount}</Amount>
                  </>
                ) : null}
              </h3>
              <p data-testid="request-summary">{previewSummary(request)}</p>
              <dl class="facts">
                <dt>Customer</dt>
                <dd>
                  <a href={`/panel${panelSearch({ email: request.email ?? undefined, customer: request.customer_id })}`}>{request.email ?? request.customer_id}</a> · <code>{request.customer_id}</code>
                </dd>
                <dt>Why it needs approval</dt>
                <dd data-testid="approval-because">{because.length > 0 ? because.join('; ') : "Beyond the policy's auto_approve limits."}</dd>
                <dt>Created</dt>
                <dd>{minute(request.created_at)} UTC</dd>
                <dt>Requested by</dt>
                <dd>
                  {request.created_by}
                  {request.confirmed_via ? `, confirmed by ${request.confirmed_via === 'staff' ? 'the staff call itself' : `the customer (${request.confirmed_via})`}` : ''}
                </dd>
              </dl>
              <div class="decide">
                {request.created_by === me ? (
                  <p class="muted" data-testid="own-request">
                    You made this request, so another staff member approves it.
                  </p>
                ) : (
                  <form method="post" action={`/panel/requests/${request.id}/approve`} class="stack">
                    <input type="hidden" name="csrf" value={props.csrf} />
                    <label for={`${request.id}-approve-note`}>Note (optional)</label>
                    <input id={`${request.id}-approve-note`} name="note" type="text" maxlength={500} autocomplete="off" />
                    <button type="submit">Approve</button>
                  </form>
                )}
                <form method="post" action={`/panel/requests/${request.id}/deny`} class="stack">
                  <input type="hidden" name="csrf" value={props.csrf} />
                  <label for={`${request.id}-deny-note`}>Why it is declined</label>
                  <input id={`${request.id}-deny-note`} name="note" type="text" maxlength={500} autocomplete="off" required />
                  <button type="submit" class="secondary">
                    Deny
                  </button>
                </form>
              </div>
            </article>
          );
        })}
      </section>
      <section class="card" aria-labelledby="recent-title">
        <h2 id="recent-title">Recently decided</h2>
        {props.recent.length === 0 ? (
          <p class="muted">Nothing decided yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="stacking" data-testid="recent-requests">
              <thead>
                <tr>
                  <th scope="col">Updated</th>
                  <th scope="col">Customer</th>
                  <th scope="col">Request</th>
                  <th scope="col">State</th>
                  <th scope="col">By</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {props.recent.map((request) => (
                  <tr data-testid="recent-request" data-request={request.id}>
                    <MinuteCell label="Updated" iso={request.updated_at} />
                    <td data-label="Customer">{request.email ?? request.customer_id}</td>
                    <SummaryCell request={request} />
                    <StateCell request={request} />
                    <td data-label="By">{request.decided_by ?? request.created_by}</td>
                    <OutcomeCell request={request} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
