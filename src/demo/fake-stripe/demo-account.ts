/**
 * The demo account's ids, emails and codes: what the demo's settings, banner and identities name.
 * Apart from seed.ts, which builds the account from them, so that a demo start does not load the
 * fake's factories (and with them the Stripe SDK) before the fake answers its first request.
 */
export const FAKE_ACCOUNT_ID = 'acct_1DemoFakeAccount';

export const DEMO = {
  accountId: FAKE_ACCOUNT_ID,
  /** Any key matching rk_/sk_ test/live works; this is the one the demo uses. */
  apiKey: 'rk_test_fake_demo_0000000000000000',
  emails: {
    alice: 'alice@example.com',
    /** A second customer record for the same person, email in different case. */
    aliceUppercase: 'Alice@Example.com',
    /** A different person (+tag), must not be merged with alice. */
    aliceWork: 'alice+work@example.com',
    /** A different person that Stripe search returns for alice's email (word sequence). */
    bobAlice: 'bob.alice@example.com',
    bob: 'bob@example.com',
    carol: 'carol@example.com',
    dave: 'dave@example.com',
    erin: 'erin@example.jp',
    frank: 'frank@example.com',
    /** Pays with a legacy card source (default_source), no payment methods. */
    heidi: 'heidi@example.com',
    /** Only on a deleted customer. */
    grace: 'grace@example.com',
    /** past_due: his card declined (insufficient_funds) on an open invoice; Stripe retries in 3 days. */
    ivan: 'ivan@example.com',
    /** No customer at all. */
    nobody: 'nobody@example.com',
  },
  customers: {
    alice: 'cus_DemoAlice',
    aliceUppercase: 'cus_DemoAliceUpper',
    aliceWork: 'cus_DemoAliceWork',
    bobAlice: 'cus_DemoBobAlice',
    bob: 'cus_DemoBob',
    carol: 'cus_DemoCarol',
    dave: 'cus_DemoDave',
    erin: 'cus_DemoErin',
    frank: 'cus_DemoFrank',
    heidi: 'cus_DemoHeidi',
    grace: 'cus_DemoGraceDeleted',
    ivan: 'cus_DemoIvan',
  },
  products: {
    starter: 'prod_DemoStarter',
    pro: 'prod_DemoPro',
    team: 'prod_DemoTeam',
    legacy: 'prod_DemoLegacy',
    proJapan: 'prod_DemoProJapan',
    setupFee: 'prod_DemoSetupFee',
    /** Made for one customer: active and recurring, but not a plan anyone else may see. */
    enterpriseAcme: 'prod_DemoEnterpriseAcme',
  },
  prices: {
    starterMonthly: 'price_DemoStarterMonthly',
    proMonthly: 'price_DemoProMonthly',
    proYearly: 'price_DemoProYearly',
    teamMonthly: 'price_DemoTeamMonthly',
    /** Inactive: must not be offered as a plan. */
    legacyMonthly: 'price_DemoLegacyMonthly',
    jpyMonthly: 'price_DemoProJapanMonthly',
    /** One-time: must not be offered as a plan. */
    setupFee: 'price_DemoSetupFee',
    enterpriseAcme: 'price_DemoEnterpriseAcme',
  },
  subscriptions: {
    /** active, Pro monthly, carries the LOYAL5 discount. */
    alice: 'sub_DemoAlicePro',
    /** canceled, on the uppercase duplicate record. */
    aliceUppercaseCanceled: 'sub_DemoAliceUpperStarter',
    aliceWork: 'sub_DemoAliceWorkTeam',
    bobAlice: 'sub_DemoBobAliceStarter',
    /** trialing, no payment method. */
    bob: 'sub_DemoBobTrial',
    /** past_due. */
    carol: 'sub_DemoCarolPastDue',
    /** active, cancel_at_period_end. */
    dave: 'sub_DemoDaveYearly',
    /** active, JPY. */
    erin: 'sub_DemoErinJpy',
    frank: 'sub_DemoFrankStarter',
    heidi: 'sub_DemoHeidiStarter',
    /** past_due, Pro monthly: the latest invoice (invoices.ivanOpen) failed with insufficient_funds. */
    ivan: 'sub_DemoIvanPastDue',
  },
  paymentMethods: {
    aliceVisa: 'pm_DemoAliceVisa4242',
    aliceWorkAmex: 'pm_DemoAliceWorkAmex',
    bobAliceVisa: 'pm_DemoBobAliceVisa',
    carolMastercard: 'pm_DemoCarolMc4444',
    daveVisa: 'pm_DemoDaveVisa',
    erinJcb: 'pm_DemoErinJcb',
    frankVisa: 'pm_DemoFrankVisa',
    /** Stripe's insufficient_funds test card (…9995): every charge to it declines. */
    ivanDeclining: 'pm_DemoIvanVisa9995',
  },
  /** Legacy card sources (`card_…`, object 'card'), from before PaymentMethods. */
  sources: {
    heidiVisa: 'card_DemoHeidiVisa',
  },
  /** Secrets seeded on alice that no tool result may contain. */
  secrets: {
    aliceCardFingerprint: 'DemoFpAliceVisa9x7Q',
    aliceMetadata: { crm_note: 'VIP - internal only', risk_score: '12' } as Record<string, string>,
  },
  invoices: {
    alicePaid: ['in_DemoAlice0001', 'in_DemoAlice0002', 'in_DemoAlice0003'] as const,
    /** draft: no hosted/pdf links. */
    aliceDraft: 'in_DemoAliceDraft',
    aliceUppercase: 'in_DemoAliceUpper0001',
    aliceWork: 'in_DemoAliceWork0001',
    bobAlice: 'in_DemoBobAlice0001',
    bobTrial: 'in_DemoBobTrial0001',
    carolPaid: 'in_DemoCarol0001',
    /** open, charge_automatically, unpaid. */
    carolOpen: 'in_DemoCarolOpen',
    /** open, send_invoice, with a due date. */
    daveSendInvoice: 'in_DemoDaveSendInvoice',
    davePaid: 'in_DemoDave0001',
    erinPaid: ['in_DemoErin0001', 'in_DemoErin0002'] as const,
    frankPaid: 'in_DemoFrank0001',
    ivanPaid: 'in_DemoIvan0001',
    /** open, charge_automatically: 1 failed attempt 3 days ago, next attempt in 3 days. */
    ivanOpen: 'in_DemoIvanOpen',
  },
  charges: {
    alicePaid: ['ch_DemoAlice0001', 'ch_DemoAlice0002', 'ch_DemoAlice0003'] as const,
    aliceFailed: 'ch_DemoAliceFailed',
    aliceRefunded: 'ch_DemoAliceRefunded',
    carolFailed: 'ch_DemoCarolFailed',
    ivanPaid: 'ch_DemoIvan0001',
    /** failed: card_declined / insufficient_funds, on invoices.ivanOpen. */
    ivanDeclined: 'ch_DemoIvanDeclined',
  },
  coupons: {
    welcome20: 'DEMO_WELCOME20',
    expired10: 'DEMO_TEN',
    aliceOnly: 'DEMO_ALICE15',
    firstTime: 'DEMO_FIRST50',
    bigSpend: 'DEMO_BIG25',
    maxed: 'DEMO_MAXED30',
    inactive: 'DEMO_INACTIVE5',
    /** $5 off forever: the existing discount on alice's subscription. */
    loyal5: 'DEMO_LOYAL5',
    /** The merchant's retention offer in the cancel flow: 25% off for 3 months. */
    retention: 'DEMO_RETENTION25',
  },
  /** Typed by customers; Stripe's code filter is case-insensitive. */
  promotionCodes: {
    WELCOME20: { id: 'promo_DemoWelcome20', code: 'WELCOME20' },
    EXPIRED10: { id: 'promo_DemoExpired10', code: 'EXPIRED10' },
    ALICEONLY: { id: 'promo_DemoAliceOnly', code: 'ALICEONLY' },
    FIRSTTIME: { id: 'promo_DemoFirstTime', code: 'FIRSTTIME' },
    BIGSPEND: { id: 'promo_DemoBigSpend', code: 'BIGSPEND' },
    MAXED: { id: 'promo_DemoMaxed', code: 'MAXED' },
    INACTIVE: { id: 'promo_DemoInactive', code: 'INACTIVE' },
  },
  discounts: { aliceLoyal5: 'di_DemoAliceLoyal5' },
  /** The refund behind charges.aliceRefunded (always seeded). */
  refunds: { aliceRefunded: 're_DemoAliceRefunded' },
  /**
   * Payments the action tools are demonstrated on, seeded only with `actionFixtures: true`:
   * a duplicate of alice's latest Pro payment (charged again 90 seconds later; refundable in
   * full, reason `duplicate`), and a setup fee of $99.00 of which $25.00 was already refunded
   * ($74.00 left). Both carry a payment intent, so refunds by `payment_intent` work too.
   */
  actions: {
    aliceDuplicateCharge: 'ch_DemoAliceDuplicate',
    aliceDuplicatePaymentIntent: 'pi_DemoAliceDuplicate',
    alicePartlyRefundedCharge: 'ch_DemoAlicePartlyRefunded',
    alicePartlyRefundedPaymentIntent: 'pi_DemoAlicePartlyRefunded',
    alicePartialRefund: 're_DemoAlicePartialRefund',
    /** Minor units already refunded on the partly refunded charge, and what is left. */
    alicePartlyRefundedAmounts: { amount: 9900, refunded: 2500, left: 7400 },
  },
  portalConfiguration: 'bpc_DemoDefault',
  /** frank's credit balance, in cents (negative = credit the customer has). */
  frankBalance: -2500,
  /** ivan's declined payment: what failed, for how much, and when Stripe tries again. */
  ivanDecline: { code: 'card_declined', declineCode: 'insufficient_funds', amount: 4900, currency: 'usd', failedDaysAgo: 3, nextAttemptInDays: 3 },
} as const;
