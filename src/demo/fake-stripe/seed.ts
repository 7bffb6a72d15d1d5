/**
 * The seeded demo account. Every billing tool has a customer that exercises it, including the
 * traps: two customer records for one email in different case, `+tag` and word-sequence
 * look-alikes that Stripe search also returns, secrets (metadata, card fingerprint) that must
 * never reach a chat, a JPY (zero-decimal) customer, a credit balance, and promotion codes that
 * fail each of Stripe's restrictions, and an old account still paying with a legacy card source. The fixed ids
 * are in demo-account.ts (loaded without the Stripe SDK); all times are relative to `now`.
 */
import type Stripe from 'stripe';
import {
  makeCardPaymentMethod,
  makeCardSource,
  makeCharge,
  makeCoupon,
  makeCustomer,
  makeCustomerBalanceTransaction,
  makeDeletedCustomer,
  makeDiscount,
  makeInvoice,
  makeInvoiceLineItem,
  makePortalConfiguration,
  makePrice,
  makeProduct,
  makePromotionCode,
  makeSubscription,
  makeSubscriptionItem,
  type CardSpec,
} from './factories.js';
import { recordRefund } from './refunds.js';
import type { FakeStripeStore } from './store.js';
import { DEMO } from './demo-account.js';

export { DEMO };

const cards = {
  aliceVisa: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, fingerprint: DEMO.secrets.aliceCardFingerprint },
  aliceWorkAmex: { brand: 'amex', last4: '8431', expMonth: 6, expYear: 2029, fingerprint: 'DemoFpAliceWorkAmex' },
  bobAliceVisa: { brand: 'visa', last4: '1881', expMonth: 1, expYear: 2028, fingerprint: 'DemoFpBobAliceVisa' },
  carolMastercard: { brand: 'mastercard', last4: '4444', expMonth: 3, expYear: 2027, fingerprint: 'DemoFpCarolMc' },
  daveVisa: { brand: 'visa', last4: '0077', expMonth: 9, expYear: 2031, fingerprint: 'DemoFpDaveVisa' },
  erinJcb: { brand: 'jcb', last4: '0505', expMonth: 11, expYear: 2029, fingerprint: 'DemoFpErinJcb', country: 'JP' },
  frankVisa: { brand: 'visa', last4: '5556', expMonth: 4, expYear: 2030, fingerprint: 'DemoFpFrankVisa' },
  ivanDeclining: { brand: 'visa', last4: '9995', expMonth: 8, expYear: 2031, fingerprint: 'DemoFpIvanVisa' },
} satisfies Record<keyof typeof DEMO.paymentMethods, CardSpec>;

// The Sources API names brands as printed ("Visa"), not as PaymentMethods do ("visa").
const sourceCards = {
  heidiVisa: { brand: 'Visa', last4: '1117', expMonth: 7, expYear: 2028, fingerprint: 'DemoFpHeidiLegacyVisa' },
} satisfies Record<keyof typeof DEMO.sources, CardSpec>;

export interface SeedOptions {
  now: number;
  portalConfigured: boolean;
  /** Also seed DEMO.actions (the refundable payments of the action tools' demo). */
  actionFixtures?: boolean;
}

const DAY = 86_400;


export function seedDemoAccount(store: FakeStripeStore, { now, portalConfigured, actionFixtures = false }: SeedOptions): void {
  const ago = (days: number) => now - Math.round(days * DAY);
  const ahead = (days: number) => now + Math.round(days * DAY);
  const put = <T extends { id: string }>(map: Map<string, T>, value: T): T => {
    map.set(value.id, value);
    return value;
  };

  // Catalog ---------------------------------------------------------------------------------
  const P = DEMO.products;
  put(store.products, makeProduct({ id: P.starter, created: ago(900), name: 'Starter', defaultPrice: DEMO.prices.starterMonthly }));
  put(store.products, makeProduct({ id: P.pro, created: ago(899), name: 'Pro', defaultPrice: DEMO.prices.proMonthly }));
  put(store.products, makeProduct({ id: P.team, created: ago(898), name: 'Team', defaultPrice: DEMO.prices.teamMonthly }));
  put(store.products, makeProduct({ id: P.legacy, created: ago(1200), name: 'Basic (legacy)', active: false }));
  put(store.products, makeProduct({ id: P.proJapan, created: ago(897), name: 'Pro (Japan)', defaultPrice: DEMO.prices.jpyMonthly }));
  put(store.products, makeProduct({ id: P.setupFee, created: ago(896), name: 'Setup fee' }));
  put(store.products, makeProduct({ id: P.enterpriseAcme, created: ago(300), name: 'Enterprise – ACME', defaultPrice: DEMO.prices.enterpriseAcme }));

  const price = (spec: Parameters<typeof makePrice>[0]) => put(store.prices, makePrice(spec));
  const starter = price({ id: DEMO.prices.starterMonthly, created: ago(900), product: P.starter, currency: 'usd', unitAmount: 1900, recurring: { interval: 'month' }, lookupKey: 'starter_monthly', nickname: 'Starter monthly' });
  const proMonthly = price({ id: DEMO.prices.proMonthly, created: ago(899), product: P.pro, currency: 'usd', unitAmount: 4900, recurring: { interval: 'month' }, lookupKey: 'pro_monthly', nickname: 'Pro monthly' });
  const proYearly = price({ id: DEMO.prices.proYearly, created: ago(898.5), product: P.pro, currency: 'usd', unitAmount: 49000, recurring: { interval: 'year' }, lookupKey: 'pro_yearly', nickname: 'Pro yearly' });
  const team = price({ id: DEMO.prices.teamMonthly, created: ago(898), product: P.team, currency: 'usd', unitAmount: 9900, recurring: { interval: 'month' }, lookupKey: 'team_monthly', nickname: 'Team monthly' });
  price({ id: DEMO.prices.legacyMonthly, created: ago(1200), product: P.legacy, currency: 'usd', unitAmount: 2900, recurring: { interval: 'month' }, active: false, nickname: 'Basic monthly (legacy)' });
  const jpy = price({ id: DEMO.prices.jpyMonthly, created: ago(897), product: P.proJapan, currency: 'jpy', unitAmount: 2000, recurring: { interval: 'month' }, lookupKey: 'pro_monthly_jpy', nickname: 'Pro monthly (JPY)' });
  price({ id: DEMO.prices.enterpriseAcme, created: ago(300), product: P.enterpriseAcme, currency: 'usd', unitAmount: 250000, recurring: { interval: 'month' }, nickname: 'ACME contract' });
  const setupFee = price({ id: DEMO.prices.setupFee, created: ago(896), product: P.setupFee, currency: 'usd', unitAmount: 9900, recurring: null, nickname: 'One-time setup' });

  // Customers and payment methods ---------------------------------------------------------
  const C = DEMO.customers;
  const E = DEMO.emails;
  const PM = DEMO.paymentMethods;
  const customer = (spec: Parameters<typeof makeCustomer>[0]): Stripe.Customer => {
    const created = makeCustomer(spec);
    store.customers.set(created.id, created);
    return created;
  };
  const card = (key: keyof typeof PM, owner: string, created: number, name: string) =>
    put(store.paymentMethods, makeCardPaymentMethod({ id: PM[key], customer: owner, created, card: cards[key], billingName: name }));

  const alice = customer({ id: C.alice, created: ago(400), email: E.alice, name: 'Alice Example', phone: '+15555550101', defaultPaymentMethod: PM.aliceVisa, metadata: DEMO.secrets.aliceMetadata, invoicePrefix: 'ALICE' });
  const aliceUpper = customer({ id: C.aliceUppercase, created: ago(800), email: E.aliceUppercase, name: 'Alice Example', invoicePrefix: 'ALICEOLD' });
  const aliceWork = customer({ id: C.aliceWork, created: ago(300), email: E.aliceWork, name: 'Alice Worker', defaultPaymentMethod: PM.aliceWorkAmex, invoicePrefix: 'ALICEWRK' });
  const bobAlice = customer({ id: C.bobAlice, created: ago(250), email: E.bobAlice, name: 'Bob Alice', defaultPaymentMethod: PM.bobAliceVisa, invoicePrefix: 'BOBALICE' });
  const bob = customer({ id: C.bob, created: ago(4), email: E.bob, name: 'Bob Builder', invoicePrefix: 'BOB' });
  const carol = customer({ id: C.carol, created: ago(200), email: E.carol, name: 'Carol Danvers', defaultPaymentMethod: PM.carolMastercard, invoicePrefix: 'CAROL' });
  const dave = customer({ id: C.dave, created: ago(500), email: E.dave, name: 'Dave Grohl', defaultPaymentMethod: PM.daveVisa, invoicePrefix: 'DAVE' });
  const erin = customer({ id: C.erin, created: ago(150), email: E.erin, name: 'Erin Tanaka', currency: 'jpy', defaultPaymentMethod: PM.erinJcb, invoicePrefix: 'ERIN' });
  const frank = customer({ id: C.frank, created: ago(120), email: E.frank, name: 'Frank Castle', balance: DEMO.frankBalance, defaultPaymentMethod: PM.frankVisa, invoicePrefix: 'FRANK' });
  const heidi = customer({ id: C.heidi, created: ago(2000), email: E.heidi, name: 'Heidi Legacy', defaultSource: DEMO.sources.heidiVisa, invoicePrefix: 'HEIDI' });
  store.customers.set(C.grace, makeDeletedCustomer(C.grace));
  const ivan = customer({ id: C.ivan, created: ago(160), email: E.ivan, name: 'Ivan Petrov', defaultPaymentMethod: PM.ivanDeclining, invoicePrefix: 'IVAN' });

  card('aliceVisa', C.alice, ago(399), 'Alice Example');
  card('aliceWorkAmex', C.aliceWork, ago(299), 'Alice Worker');
  card('bobAliceVisa', C.bobAlice, ago(249), 'Bob Alice');
  card('carolMastercard', C.carol, ago(199), 'Carol Danvers');
  card('daveVisa', C.dave, ago(499), 'Dave Grohl');
  card('erinJcb', C.erin, ago(149), 'Erin Tanaka');
  card('frankVisa', C.frank, ago(119), 'Frank Castle');
  card('ivanDeclining', C.ivan, ago(159), 'Ivan Petrov');
  put(store.sources, makeCardSource({ id: DEMO.sources.heidiVisa, customer: C.heidi, card: sourceCards.heidiVisa, name: 'Heidi Legacy' }));

  // Coupons, promotion codes, discounts --------------------------------------------------------
  const K = DEMO.coupons;
  const coupon = (spec: Parameters<typeof makeCoupon>[0]) => put(store.coupons, makeCoupon(spec));
  coupon({ id: K.welcome20, created: ago(100), name: '20% off for 3 months', percentOff: 20, duration: 'repeating', durationInMonths: 3 });
  coupon({ id: K.expired10, created: ago(200), name: '10% off once', percentOff: 10, duration: 'once' });
  coupon({ id: K.aliceOnly, created: ago(90), name: '15% off for Alice', percentOff: 15, duration: 'once' });
  coupon({ id: K.firstTime, created: ago(80), name: '50% off first month', percentOff: 50, duration: 'once' });
  coupon({ id: K.bigSpend, created: ago(70), name: '25% off big orders', percentOff: 25, duration: 'once' });
  coupon({ id: K.maxed, created: ago(60), name: '30% off (limited)', percentOff: 30, duration: 'once', timesRedeemed: 5 });
  coupon({ id: K.inactive, created: ago(50), name: '5% off (retired)', percentOff: 5, duration: 'once' });
  coupon({ id: K.retention, created: ago(30), name: '25% off for 3 months', percentOff: 25, duration: 'repeating', durationInMonths: 3 });
  const loyal5 = coupon({ id: K.loyal5, created: ago(365), name: '$5 off forever', amountOff: 500, currency: 'usd', duration: 'forever', timesRedeemed: 1 });

  const PC = DEMO.promotionCodes;
  const promo = (spec: Parameters<typeof makePromotionCode>[0]) => put(store.promotionCodes, makePromotionCode(spec));
  promo({ ...PC.WELCOME20, created: ago(100), coupon: K.welcome20 });
  promo({ ...PC.EXPIRED10, created: ago(200), coupon: K.expired10, expiresAt: ago(10) });
  promo({ ...PC.ALICEONLY, created: ago(90), coupon: K.aliceOnly, customer: C.alice });
  promo({ ...PC.FIRSTTIME, created: ago(80), coupon: K.firstTime, firstTimeTransaction: true });
  promo({ ...PC.BIGSPEND, created: ago(70), coupon: K.bigSpend, minimumAmount: 100000, minimumAmountCurrency: 'usd' });
  promo({ ...PC.MAXED, created: ago(60), coupon: K.maxed, maxRedemptions: 5, timesRedeemed: 5 });
  promo({ ...PC.INACTIVE, created: ago(50), coupon: K.inactive, active: false });

  put(store.discounts, makeDiscount({ id: DEMO.discounts.aliceLoyal5, start: ago(190), coupon: loyal5, customer: C.alice, subscription: DEMO.subscriptions.alice }));

  // Subscriptions ------------------------------------------------------------------------------
  const S = DEMO.subscriptions;
  const subscription = (
    id: string,
    owner: Stripe.Customer,
    created: number,
    itemPrice: Stripe.Price,
    period: { start: number; end: number },
    extra: Partial<Parameters<typeof makeSubscription>[0]> = {},
  ) =>
    put(
      store.subscriptions,
      makeSubscription({
        id,
        customer: owner.id,
        created,
        status: 'active',
        currency: itemPrice.currency,
        items: [
          makeSubscriptionItem({
            id: `si_${id.slice(4)}`,
            subscription: id,
            created,
            price: itemPrice,
            quantity: 1,
            currentPeriodStart: period.start,
            currentPeriodEnd: period.end,
          }),
        ],
        ...extra,
      }),
    );

  subscription(S.alice, alice, ago(190), proMonthly, { start: ago(10), end: ahead(20) }, {
    discounts: [DEMO.discounts.aliceLoyal5],
    latestInvoice: DEMO.invoices.alicePaid[2],
    metadata: { internal_segment: 'enterprise-trial-upsell' },
  });
  subscription(S.aliceUppercaseCanceled, aliceUpper, ago(790), starter, { start: ago(530), end: ago(500) }, {
    status: 'canceled',
    canceledAt: ago(505),
    endedAt: ago(500),
    latestInvoice: DEMO.invoices.aliceUppercase,
  });
  subscription(S.aliceWork, aliceWork, ago(290), team, { start: ago(15), end: ahead(15) }, { latestInvoice: DEMO.invoices.aliceWork });
  subscription(S.bobAlice, bobAlice, ago(240), starter, { start: ago(5), end: ahead(25) }, { latestInvoice: DEMO.invoices.bobAlice });
  subscription(S.bob, bob, ago(4), proMonthly, { start: ago(4), end: ahead(10) }, {
    status: 'trialing',
    trialStart: ago(4),
    trialEnd: ahead(10),
    latestInvoice: DEMO.invoices.bobTrial,
  });
  subscription(S.carol, carol, ago(190), starter, { start: ago(5), end: ahead(25) }, { status: 'past_due', latestInvoice: DEMO.invoices.carolOpen });
  subscription(S.dave, dave, ago(265), proYearly, { start: ago(265), end: ahead(100) }, {
    cancelAtPeriodEnd: true,
    cancelAt: ahead(100),
    latestInvoice: DEMO.invoices.davePaid,
  });
  subscription(S.erin, erin, ago(140), jpy, { start: ago(20), end: ahead(10) }, { latestInvoice: DEMO.invoices.erinPaid[1] });
  subscription(S.frank, frank, ago(115), starter, { start: ago(25), end: ahead(5) }, { latestInvoice: DEMO.invoices.frankPaid });
  subscription(S.heidi, heidi, ago(1990), starter, { start: ago(12), end: ahead(18) });
  subscription(S.ivan, ivan, ago(155), proMonthly, { start: ago(DEMO.ivanDecline.failedDaysAgo), end: ahead(30 - DEMO.ivanDecline.failedDaysAgo) }, {
    status: 'past_due',
    latestInvoice: DEMO.invoices.ivanOpen,
  });

  // Invoices and charges -------------------------------------------------------------------
  // Stripe numbers invoices per customer: <invoice_prefix>-0001, -0002, …
  const invoiceSequence = new Map<string, number>();
  const invoice = (
    id: string,
    owner: Stripe.Customer,
    created: number,
    linePrice: Stripe.Price,
    extra: Partial<Parameters<typeof makeInvoice>[0]> & { subscription?: string | null; periodDays?: number },
  ) => {
    const sequence = (invoiceSequence.get(owner.id) ?? 0) + 1;
    invoiceSequence.set(owner.id, sequence);
    const amount = linePrice.unit_amount ?? 0;
    const periodEnd = created + (extra.periodDays ?? 30) * DAY;
    return put(
      store.invoices,
      makeInvoice({
        id,
        customer: owner.id,
        customerEmail: owner.email,
        customerName: owner.name ?? null,
        created,
        currency: linePrice.currency,
        status: 'paid',
        subtotal: amount,
        number: extra.status === 'draft' ? null : `${owner.invoice_prefix ?? 'DEMO'}-${String(sequence).padStart(4, '0')}`,
        periodStart: created,
        periodEnd,
        lines: [
          makeInvoiceLineItem({
            id: `il_${id.slice(3)}`,
            invoice: id,
            amount,
            currency: linePrice.currency,
            description: `1 × ${linePrice.nickname ?? 'item'}`,
            quantity: 1,
            periodStart: created,
            periodEnd,
            price: linePrice,
            subscription: extra.subscription ?? null,
            subscriptionItem: extra.subscription ? `si_${extra.subscription.slice(4)}` : null,
          }),
        ],
        ...extra,
      }),
    );
  };
  const charge = (id: string, owner: Stripe.Customer, created: number, amount: number, currency: string, pmKey: keyof typeof PM, extra: Partial<Parameters<typeof makeCharge>[0]> = {}) =>
    put(
      store.charges,
      makeCharge({ id, customer: owner.id, created, amount, currency, description: 'Subscription update', paymentMethod: PM[pmKey], card: cards[pmKey], receiptEmail: owner.email, ...extra }),
    );

  const I = DEMO.invoices;
  const CH = DEMO.charges;
  // alice: three paid Pro invoices (the last with her $5 loyalty discount), a draft, payments.
  invoice(I.alicePaid[0], alice, ago(70), proMonthly, { subscription: S.alice, total: 4400 });
  invoice(I.alicePaid[1], alice, ago(40), proMonthly, { subscription: S.alice, total: 4400, attemptCount: 2 });
  invoice(I.alicePaid[2], alice, ago(10), proMonthly, { subscription: S.alice, total: 4400 });
  invoice(I.aliceDraft, alice, ago(1), setupFee, { status: 'draft', billingReason: 'manual', periodDays: 0 });
  charge(CH.alicePaid[0], alice, ago(70) + 3600, 4400, 'usd', 'aliceVisa');
  charge(CH.aliceFailed, alice, ago(40) + 3600, 4400, 'usd', 'aliceVisa', { status: 'failed', failureCode: 'card_declined', failureMessage: 'Your card was declined.' });
  charge(CH.alicePaid[1], alice, ago(39), 4400, 'usd', 'aliceVisa');
  charge(CH.alicePaid[2], alice, ago(10) + 3600, 4400, 'usd', 'aliceVisa');
  const aliceRefunded = charge(CH.aliceRefunded, alice, ago(180), 9900, 'usd', 'aliceVisa', { description: 'One-time setup' });
  recordRefund(store, aliceRefunded, { id: DEMO.refunds.aliceRefunded, amount: 9900, created: ago(179), reason: 'requested_by_customer' });
  if (actionFixtures) {
    const A = DEMO.actions;
    charge(A.aliceDuplicateCharge, alice, ago(10) + 3600 + 90, 4400, 'usd', 'aliceVisa', { paymentIntent: A.aliceDuplicatePaymentIntent });
    const partly = charge(A.alicePartlyRefundedCharge, alice, ago(6), A.alicePartlyRefundedAmounts.amount, 'usd', 'aliceVisa', {
      description: 'One-time setup',
      paymentIntent: A.alicePartlyRefundedPaymentIntent,
    });
    recordRefund(store, partly, { id: A.alicePartialRefund, amount: A.alicePartlyRefundedAmounts.refunded, created: ago(5), reason: 'requested_by_customer' });
  }

  // The uppercase duplicate: one paid invoice on its canceled subscription.
  invoice(I.aliceUppercase, aliceUpper, ago(530), starter, { subscription: S.aliceUppercaseCanceled });

  invoice(I.aliceWork, aliceWork, ago(15), team, { subscription: S.aliceWork });
  charge('ch_DemoAliceWork0001', aliceWork, ago(15) + 3600, 9900, 'usd', 'aliceWorkAmex');
  invoice(I.bobAlice, bobAlice, ago(5), starter, { subscription: S.bobAlice });
  charge('ch_DemoBobAlice0001', bobAlice, ago(5) + 3600, 1900, 'usd', 'bobAliceVisa');

  // bob: the $0 invoice Stripe issues when a trial starts.
  invoice(I.bobTrial, bob, ago(4), proMonthly, { subscription: S.bob, total: 0, amountPaid: 0, amountDue: 0, billingReason: 'subscription_create', periodDays: 14 });

  // carol: paid last month, this month's invoice open after failed attempts.
  invoice(I.carolPaid, carol, ago(35), starter, { subscription: S.carol });
  charge('ch_DemoCarol0001', carol, ago(35) + 3600, 1900, 'usd', 'carolMastercard');
  invoice(I.carolOpen, carol, ago(5), starter, { subscription: S.carol, status: 'open', attemptCount: 2, nextPaymentAttempt: ahead(2) });
  charge(CH.carolFailed, carol, ago(5) + 3600, 1900, 'usd', 'carolMastercard', { status: 'failed', failureCode: 'card_declined', failureMessage: 'Your card has insufficient funds.' });

  // ivan: paid last month; this month's renewal declined (insufficient funds), retried in 3 days.
  const D = DEMO.ivanDecline;
  invoice(I.ivanPaid, ivan, ago(D.failedDaysAgo + 30), proMonthly, { subscription: S.ivan });
  charge(CH.ivanPaid, ivan, ago(D.failedDaysAgo + 30) + 3600, 4900, 'usd', 'ivanDeclining');
  invoice(I.ivanOpen, ivan, ago(D.failedDaysAgo), proMonthly, { subscription: S.ivan, status: 'open', attemptCount: 1, nextPaymentAttempt: ahead(D.nextAttemptInDays) });
  charge(CH.ivanDeclined, ivan, ago(D.failedDaysAgo) + 3600, D.amount, D.currency, 'ivanDeclining', {
    status: 'failed',
    failureCode: D.code,
    failureMessage: 'Your card has insufficient funds.',
    declineCode: D.declineCode,
    description: 'Subscription update',
  });

  // dave: yearly plan paid, and a manual invoice he pays by bank transfer (send_invoice).
  invoice(I.davePaid, dave, ago(265), proYearly, { subscription: S.dave, periodDays: 365 });
  charge('ch_DemoDave0001', dave, ago(265) + 3600, 49000, 'usd', 'daveVisa');
  invoice(I.daveSendInvoice, dave, ago(10), setupFee, { status: 'open', collectionMethod: 'send_invoice', dueDate: ahead(20), billingReason: 'manual', periodDays: 0 });

  // erin: JPY, zero-decimal (2000 = ¥2,000).
  invoice(I.erinPaid[0], erin, ago(50), jpy, { subscription: S.erin });
  charge('ch_DemoErin0001', erin, ago(50) + 3600, 2000, 'jpy', 'erinJcb');
  invoice(I.erinPaid[1], erin, ago(20), jpy, { subscription: S.erin });
  charge('ch_DemoErin0002', erin, ago(20) + 3600, 2000, 'jpy', 'erinJcb');

  // frank: a goodwill credit, partly used on his last invoice. The numbers add up as Stripe's
  // would: $44.00 credit − $19.00 invoice = $25.00 left (customer.balance, invoice ending_balance).
  const starterAmount = starter.unit_amount ?? 0;
  const frankCredit = DEMO.frankBalance - starterAmount;
  invoice(I.frankPaid, frank, ago(25), starter, { subscription: S.frank, startingBalance: frankCredit, amountDue: 0, amountPaid: 0 });
  put(store.balanceTransactions, makeCustomerBalanceTransaction({ id: 'cbtxn_DemoFrankCredit', customer: C.frank, created: ago(60), amount: frankCredit, currency: 'usd', endingBalance: frankCredit, type: 'adjustment', description: 'Goodwill credit for the outage' }));
  put(store.balanceTransactions, makeCustomerBalanceTransaction({ id: 'cbtxn_DemoFrankApplied', customer: C.frank, created: ago(25), amount: starterAmount, currency: 'usd', endingBalance: DEMO.frankBalance, type: 'applied_to_invoice', invoice: I.frankPaid }));

  // Customer portal -------------------------------------------------------------------------
  if (portalConfigured) {
    put(
      store.portalConfigurations,
      makePortalConfiguration({
        id: DEMO.portalConfiguration,
        created: ago(365),
        isDefault: true,
        cancelEnabled: true,
        // The plans customers may switch between: not the one made for ACME.
        switchTo: [
          { product: P.starter, prices: [DEMO.prices.starterMonthly] },
          { product: P.pro, prices: [DEMO.prices.proMonthly, DEMO.prices.proYearly] },
          { product: P.team, prices: [DEMO.prices.teamMonthly] },
          { product: P.proJapan, prices: [DEMO.prices.jpyMonthly] },
        ],
      }),
    );
  }
}
