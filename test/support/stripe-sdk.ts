// Every test file starts with the Stripe SDK loaded through src/stripe/sdk.ts, as the server has it
// before its first Stripe call: its errors are recognised only then (StripeErrors), and many tests
// build their own Stripe client or Stripe's errors rather than use the server's.
import { loadStripeSdk } from '../../src/stripe/sdk.js';

await loadStripeSdk();
