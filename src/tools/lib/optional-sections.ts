/**
 * A section a tool can answer without. When the key lacks the permission a section needs (the
 * probe says so, or Stripe answers 403 at call time), the section is left out and the answer
 * says so, naming the permission as the Dashboard does: the model then neither guesses the
 * missing part nor takes it for "nothing there", and the tool is never hidden for it.
 */
import { StripeErrors } from '../../stripe/sdk.js';
import { ToolError } from '../../errors.js';
import { missingPermission } from '../../stripe/errors.js';
import { PERMISSIONS } from '../../stripe/permission-probes.js';

/** Stripe's 403, raw or as the customer look-up maps it: which permission it names, if any. */
function refusedPermission(error: unknown): { permission: string | undefined } | undefined {
  if (error instanceof StripeErrors.StripePermissionError) return { permission: missingPermission(error) };
  if (error instanceof ToolError && error.kind === 'not_available' && error.logDetail?.stripeType === 'StripePermissionError') {
    return { permission: typeof error.logDetail.permission === 'string' ? error.logDetail.permission : undefined };
  }
  return undefined;
}

/** "Not shown: discounts. The Stripe key lacks the “Coupons: Read” permission; …" */
function leftOutNotice(permission: string, section: string): string {
  const label = PERMISSIONS[permission]?.label ?? 'a';
  return `Not shown: ${section}. The Stripe key lacks the “${label}” permission; the merchant can grant it. Do not guess what is missing.`;
}

export class OptionalSections {
  /** permission → what was left out, in the order met. */
  private readonly left = new Map<string, string>();

  /**
   * @param optional the tool's optionalPermissions; a permission not named there is needed, so
   *   its 403 fails the call as before.
   * @param knownMissing what the last probe found missing, so a known gap costs no request.
   */
  constructor(
    private readonly optional: Readonly<Record<string, string>> = {},
    private readonly knownMissing: (permission: string) => boolean = () => false,
  ) {}

  /**
   * `load`, unless the key lacks one of `permissions` (all of which the section needs) and the
   * tool declares it optional: then `fallback` (a value, or what to load instead).
   */
  async read<T>(permissions: string | readonly string[], load: () => Promise<T>, fallback: T | (() => Promise<T>)): Promise<T> {
    const needed = (typeof permissions === 'string' ? [permissions] : permissions).filter((permission) => permission in this.optional);
    if (needed.length === 0) return load();
    const lacking = needed.find((permission) => this.left.has(permission) || this.knownMissing(permission));
    if (lacking) return this.leaveOut(lacking, fallback);
    try {
      return await load();
    } catch (error) {
      const refused = refusedPermission(error);
      if (!refused) throw error;
      // A 403 for a permission this section does not depend on is someone else's to handle.
      const named = refused.permission;
      if (named !== undefined && !needed.includes(named)) throw error;
      return this.leaveOut(named ?? needed[0]!, fallback);
    }
  }

  /** One notice per permission left out, for the answer (structured and text). */
  notices(): string[] {
    return [...this.left].map(([permission, section]) => leftOutNotice(permission, section));
  }

  /** The permissions behind them (`rak_…`), for the log only. */
  permissionsLeftOut(): string[] {
    return [...this.left.keys()];
  }

  private leaveOut<T>(permission: string, fallback: T | (() => Promise<T>)): Promise<T> {
    this.left.set(permission, this.optional[permission]!);
    return typeof fallback === 'function' ? (fallback as () => Promise<T>)() : Promise.resolve(fallback);
  }
}
