/**
 * The panel's stylesheet and script, served from /panel/assets so the CSP can forbid every
 * inline script and style. Kept as strings so `tsc` ships them inside dist/ with no copy step.
 */

export const PANEL_CSS = `
:root { color-scheme: light; --fg: #1a1f36; --muted: #5b6478; --line: #e3e8ee; --bg: #f6f8fa; --card: #fff;
  --accent: #533afd; --accent-dark: #3d27d6; --ok: #0a7d45; --ok-bg: #e3f6ec; --warn: #9a5b00; --warn-bg: #fff4e0;
  --bad: #b3261e; --bad-bg: #fde8e7; --info-bg: #eef0ff; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); overflow-wrap: anywhere; }
.topbar { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem .75rem; padding: .6rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; letter-spacing: .01em; }
.signout { margin-left: auto; display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; min-width: 0; }
.who { color: var(--muted); font-size: .875rem; }
main { max-width: 960px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.35rem; margin: 0 0 .5rem; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
p { margin: .25rem 0; }
.muted { color: var(--muted); font-size: .875rem; }
code { font: .8125rem ui-monospace, SFMono-Regular, Menlo, monospace; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .9rem 1rem; margin: 0 0 .75rem; }
.card.narrow { max-width: 420px; margin: 2rem auto; }
.card.alert { border-color: #f3c0bc; background: var(--bad-bg); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(240px, 100%), 1fr)); gap: 0 .75rem; }
.stack { display: flex; flex-direction: column; gap: .5rem; align-items: flex-start; }
.stack input { width: 100%; }
.lookup { margin: 0 0 .75rem; }
.lookup label { display: block; font-weight: 600; margin-bottom: .25rem; }
.row { display: flex; gap: .5rem; flex-wrap: wrap; }
.row input[type=email] { flex: 1 1 200px; min-width: 0; }
label { font-weight: 600; font-size: .875rem; }
input { font: inherit; padding: .5rem .6rem; border: 1px solid #c4cad3; border-radius: 6px; background: #fff; color: var(--fg); }
button { font: inherit; font-weight: 600; padding: .5rem .9rem; border: 1px solid var(--accent); border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
button:hover { background: var(--accent-dark); }
.link-button { background: none; border: none; color: var(--accent); padding: .25rem .4rem; font-weight: 600; }
.link-button:hover { background: var(--info-bg); }
a { color: var(--accent-dark); }
:focus-visible { outline: 3px solid #8f7dff; outline-offset: 2px; }
.badge { display: inline-block; font-size: .75rem; font-weight: 700; padding: .15rem .5rem; border-radius: 999px; border: 1px solid transparent; }
.badge.test { background: var(--warn-bg); color: var(--warn); border-color: #f5d49a; }
.badge.live { background: var(--ok-bg); color: var(--ok); border-color: #a8e0c2; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.warn { background: var(--warn-bg); color: var(--warn); }
.badge-row { margin: .4rem 0; }
.notice { padding: .75rem 1rem; border-radius: 8px; border: 1px solid var(--line); background: var(--card); }
.notice.error { background: var(--bad-bg); border-color: #f3c0bc; color: var(--bad); font-weight: 600; }
.notice.empty { background: var(--info-bg); border-color: #cfd3ff; }
.notice.loading { color: var(--muted); }
.plain { list-style: none; padding: 0; margin: 0; }
.plain li { padding: .3rem 0; border-top: 1px solid var(--line); }
.plain li:first-child { border-top: none; }
.sub-head { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.status { display: inline-block; font-size: .75rem; font-weight: 700; text-transform: capitalize; padding: .05rem .45rem; border-radius: 4px; background: #eef1f5; color: #3c4257; }
.status-active, .status-paid, .status-trialing { background: var(--ok-bg); color: var(--ok); }
.status-past_due, .status-unpaid, .status-failed, .status-uncollectible { background: var(--bad-bg); color: var(--bad); }
.status-open, .status-refunded, .status-draft { background: var(--warn-bg); color: var(--warn); }
.picker ul { list-style: none; padding: 0; margin: 0; display: grid; gap: .4rem; }
.record { display: flex; flex-direction: column; padding: .5rem .7rem; border: 1px solid var(--line); border-radius: 8px; text-decoration: none; color: var(--fg); }
.record.selected { border-color: var(--accent); background: var(--info-bg); }
.record-name { font-weight: 600; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .875rem; overflow-wrap: normal; }
th, td { text-align: left; padding: .4rem .5rem; border-top: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
th { color: var(--muted); font-weight: 600; border-top: none; }
.num { text-align: right; }
/* An amount never breaks inside ("$1,234" / ".00"), wherever it stands. */
.amount { white-space: nowrap; overflow-wrap: normal; }
/*
 * The audit table wraps inside fixed columns, so a long list of what was shown cannot squeeze the
 * tool's name: dates break between day and time, tool names after an underscore, an issuer's URL
 * anywhere.
 */
.audit { table-layout: fixed; }
.audit th:nth-child(1) { width: 6.5rem; }
.audit th:nth-child(2) { width: 7rem; }
.audit th:nth-child(3) { width: 22%; }
.audit th:nth-child(4) { width: 10rem; }
.audit td { white-space: normal; overflow-wrap: anywhere; }
@media (min-width: 1000px) { .audit th:nth-child(4) { width: 13rem; } }
.nowrap { white-space: nowrap; }
tr.unverified td { background: var(--warn-bg); }
button { overflow-wrap: normal; }
.breakdown { max-width: 26rem; margin: .25rem 0 .5rem; }
.breakdown td { white-space: normal; padding: .2rem .5rem; }
.breakdown tr:first-child td { border-top: none; }
.breakdown .total td { font-weight: 600; }
.breakdown caption { caption-side: bottom; text-align: left; font-size: .8125rem; padding-top: .2rem; }
.links a { margin-right: .5rem; }
.portal-result { margin-top: .6rem; width: 100%; }
.portal-result input { width: 100%; font-size: .8125rem; }
/* Action requests: the Requests page and the customer page's list. */
.panel-nav { display: flex; gap: .75rem; font-weight: 600; }
.notice.done { background: var(--ok-bg); border-color: #a8e0c2; color: var(--ok); font-weight: 600; }
h3 { font-size: 1rem; margin: 0 0 .35rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .75rem; margin: .5rem 0; font-size: .875rem; }
.facts dt { color: var(--muted); font-weight: 600; }
.facts dd { margin: 0; }
.decide { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: flex-end; border-top: 1px solid var(--line); padding-top: .6rem; }
.decide form { flex: 1 1 220px; }
button.secondary { background: #fff; color: var(--bad); border-color: #f3c0bc; }
button.secondary:hover { background: var(--bad-bg); }
td.wrap { white-space: normal; }
@media (max-width: 480px) { .facts { grid-template-columns: 1fr; } }
[hidden] { display: none !important; }
/*
 * Narrow screens (phones, a helpdesk's side panel): each row of a .stacking table becomes a
 * block of "label  value" lines, the label from the cell's data-label. Nothing is dropped, so
 * every amount stays on screen.
 */
@media (max-width: 640px) {
  table.stacking, .stacking tbody, .stacking tr, .stacking td { display: block; width: 100%; }
  .stacking thead { display: none; }
  .stacking tr { padding: .45rem 0; border-top: 1px solid var(--line); }
  .stacking tr:first-child { border-top: none; padding-top: 0; }
  .stacking td { position: relative; border-top: none; padding: .1rem 0 .1rem 6.25rem; min-height: 1.6em; text-align: left; white-space: normal; overflow-wrap: anywhere; }
  .stacking td::before { content: attr(data-label); position: absolute; left: 0; width: 5.75rem; color: var(--muted); font-weight: 600; }
  .stacking td:empty { display: none; }
}
@media (max-width: 480px) {
  main { padding: .6rem; }
  .card { padding: .75rem; }
  .card.narrow { margin: 1rem auto; }
}
`;

/**
 * Progressive enhancement: look-ups and the record picker load the insight fragment in place
 * (with a loading state); the portal button fetches a link and copies it; inside Chatwoot the
 * Dashboard App context chooses the email. The message never authorizes anything: the session
 * cookie does; it only picks which email to show, and only from an allowed parent origin.
 */
export const PANEL_JS = `(() => {
  'use strict';
  const body = document.body;
  const region = document.getElementById('insight');
  const csrf = body.dataset.csrf || '';
  const host = body.dataset.host || '';
  let ancestors = [];
  try { ancestors = JSON.parse(body.dataset.frameAncestors || '[]'); } catch (e) { ancestors = []; }
  if (!region) return;

  function notice(kind, text) {
    const p = document.createElement('p');
    p.className = 'notice ' + kind;
    if (kind === 'error') p.setAttribute('role', 'alert'); else p.setAttribute('role', 'status');
    p.textContent = text;
    region.replaceChildren(p);
  }

  // Only the newest look-up may fill the page: an agent switching chats fast must never see the
  // previous customer arrive late beside the new conversation.
  let latest = 0;
  async function show(url) {
    const target = new URL(url, location.href);
    const mine = ++latest;
    region.setAttribute('aria-busy', 'true');
    notice('loading', 'Loading billing details…');
    try {
      const response = await fetch('/panel/card' + target.search, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (mine !== latest) return;
      if (response.status === 401) { location.assign('/panel/sign-in' + target.search); return; }
      const type = response.headers.get('content-type') || '';
      const body = await response.text();
      if (mine !== latest) return;
      if (!type.startsWith('text/html')) {
        notice('error', 'The panel could not load this customer (HTTP ' + response.status + '). Reload the page and try again.');
        return;
      }
      region.innerHTML = body;
      history.replaceState(null, '', '/panel' + target.search);
    } catch (error) {
      if (mine === latest) notice('error', 'The panel could not reach its server. Check the connection and try again.');
    } finally {
      if (mine === latest) region.setAttribute('aria-busy', 'false');
    }
  }

  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.hasAttribute('data-lookup')) {
      event.preventDefault();
      // Chatwoot's verdict was about its contact, not about an email the agent typed.
      const chatwootBadge = document.getElementById('chatwoot-status');
      if (chatwootBadge) { chatwootBadge.hidden = true; chatwootBadge.replaceChildren(); }
      const params = new URLSearchParams(new FormData(form));
      show('/panel?' + params.toString());
    } else if (form.hasAttribute('data-portal')) {
      event.preventDefault();
      portalLink(form);
    }
  });

  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[data-nav]') : null;
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    show(link.getAttribute('href'));
  });

  async function portalLink(form) {
    const box = form.parentElement.querySelector('[data-portal-result]');
    const output = box.querySelector('input');
    const status = box.querySelector('[data-portal-status]');
    const button = form.querySelector('button');
    button.disabled = true;
    box.hidden = false;
    output.value = '';
    status.textContent = 'Creating a link…';
    try {
      const response = await fetch(form.action, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'x-csrf-token': csrf, accept: 'application/json' },
        body: new URLSearchParams(new FormData(form)),
      });
      const answer = await response.json();
      if (!response.ok || !answer.url) { status.textContent = answer.message || 'No link could be created.'; return; }
      output.value = answer.url;
      output.select();
      try {
        await navigator.clipboard.writeText(answer.url);
        status.textContent = 'Copied to the clipboard.';
      } catch (error) {
        status.textContent = 'Select the link above and copy it.';
      }
    } catch (error) {
      status.textContent = 'The panel could not reach its server. Try again.';
    } finally {
      button.disabled = false;
    }
  }

  // Chatwoot Dashboard App: the parent posts {event: 'appContext', data: {conversation, contact, currentAgent}}.
  const embedded = window.parent !== window;
  const allowed = (origin) => origin === location.origin || ancestors.indexOf(origin) !== -1;
  const badge = document.getElementById('chatwoot-status');
  window.addEventListener('message', (event) => {
    if (!embedded || event.source !== window.parent || !allowed(event.origin)) return;
    let payload = event.data;
    if (typeof payload === 'string') { try { payload = JSON.parse(payload); } catch (e) { return; } }
    if (!payload || payload.event !== 'appContext' || !payload.data) return;
    const data = payload.data;
    const conversation = data.conversation || {};
    const meta = conversation.meta || {};
    const contact = data.contact || meta.sender || {};
    const verified = meta.hmac_verified === true || contact.hmac_verified === true;
    if (badge) {
      const span = document.createElement('span');
      span.className = 'badge ' + (verified ? 'ok' : 'warn');
      span.setAttribute('data-testid', 'chatwoot-badge');
      span.textContent = verified ? 'Chatwoot says identity verified' : 'Chatwoot says identity not verified';
      badge.replaceChildren(span);
      badge.hidden = false;
    }
    const email = typeof contact.email === 'string' ? contact.email.trim() : '';
    if (!email) { notice('empty', 'This Chatwoot contact has no email address yet.'); return; }
    const params = new URLSearchParams({ email: email });
    const current = new URLSearchParams(location.search);
    if (host && conversation.id !== undefined && conversation.id !== null) { params.set('conversation', String(conversation.id)); params.set('host', host); }
    const input = document.getElementById('email');
    if (input) input.value = email;
    if (current.get('email') === email && current.get('conversation') === params.get('conversation') && region.querySelector('[data-testid=insight], [data-testid=insight-empty]')) return;
    show('/panel?' + params.toString());
  });
  if (embedded) window.parent.postMessage('chatwoot-dashboard-app:fetch-info', '*');
})();
`;
