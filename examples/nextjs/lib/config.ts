// The example's settings, from the environment (.env.local in development).
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see examples/nextjs/.env.example)`);
  return value;
}

export const config = {
  /** Where your server reaches coinslot (a private address is fine). */
  get coinslotUrl() {
    return required("COINSLOT_URL");
  },
  /** `coinslot keys create web --scope read,entitlements,billing,links --json`: server-side only, never NEXT_PUBLIC_. */
  get apiKey() {
    return required("COINSLOT_API_KEY");
  },
  /** COINSLOT_HOST_WEBHOOK_SECRET, the same on both sides. */
  get webhookSecret() {
    return required("COINSLOT_WEBHOOK_SECRET");
  },
  /** This app's public origin: Stripe sends the browser back here (an allowed origin in coinslot). */
  get appUrl() {
    return required("APP_URL");
  },
  /** Where browsers reach coinslot (the pricing element and its script); default COINSLOT_URL. */
  get publicCoinslotUrl() {
    return process.env.NEXT_PUBLIC_COINSLOT_URL || required("COINSLOT_URL");
  },
};
