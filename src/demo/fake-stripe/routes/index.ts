import type { RouteDefinition } from '../router.js';
import { billingPortalRoutes } from './billing-portal.js';
import { catalogRoutes } from './catalog.js';
import { chargeRoutes } from './charges.js';
import { customerRoutes } from './customers.js';
import { invoiceRoutes } from './invoices.js';
import { invoicePaymentRoutes } from './invoice-payments.js';
import { paymentMethodRoutes } from './payment-methods.js';
import { refundRoutes } from './refunds.js';
import { subscriptionRoutes } from './subscriptions.js';

export const ALL_ROUTES: readonly RouteDefinition[] = [
  ...customerRoutes,
  ...subscriptionRoutes,
  ...invoiceRoutes,
  ...invoicePaymentRoutes,
  ...chargeRoutes,
  ...refundRoutes,
  ...catalogRoutes,
  ...paymentMethodRoutes,
  ...billingPortalRoutes,
];
