// Everything the app asks coinslot, in plain functions (no Next.js import): the server actions and route
// handlers call these, and tests/ call them against a real coinslot.
import { CoinslotClient, CoinslotError, type CustomerState, type Decision } from "@coinslot/client";
import { config } from "./config";

let client: CoinslotClient | null = null;

/** One client per server process (it holds no connection state; the key never leaves the server). */
export function billing(): CoinslotClient {
  client ??= new CoinslotClient({ baseUrl: config.coinslotUrl, apiKey: config.apiKey });
  return client;
}

// snippet:start-checkout
/** Start Stripe Checkout for a plan; returns the URL to send the browser to. */
export async function startPlanCheckout(userId: string, plan: string, interval: "month" | "year"): Promise<string> {
  const started = await billing().startCheckout({
    host_user_id: userId,
    plan,
    interval,
    success_url: `${config.appUrl}/billing/success`, // coinslot adds ?session_id=...
    cancel_url: `${config.appUrl}/`,
  });
  return started.url;
}
// snippet:end

/** The success page: apply the payment now (idempotent; coinslot's webhook would apply it too). */
export async function finishCheckout(userId: string, sessionId: string): Promise<CustomerState> {
  await billing().fulfilCheckout(sessionId, { host_user_id: userId });
  return billing().getCustomerState(userId);
}

// snippet:consume
export type FeatureResult =
  | { ok: true; remaining: number | null }
  | { ok: false; upgrade: true; reason: string; message: string };

/**
 * Spend credits for one use of `feature`, once per `requestId` (a retry is not charged twice). A refusal
 * (402: out of credits, not in the plan) is an upgrade prompt for the page, not an error.
 */
export async function consumeFeature(userId: string, feature: string, requestId: string): Promise<FeatureResult> {
  try {
    const used = await billing().consume({ host_user_id: userId, feature, idempotency_key: requestId });
    return { ok: true, remaining: used.remaining };
  } catch (error) {
    if (error instanceof CoinslotError && error.status === 402) {
      return { ok: false, upgrade: true, reason: error.code, message: error.message };
    }
    throw error; // 401 (a wrong key), 503 after the client's retries...: a real failure
  }
}
// snippet:end

export function customerState(userId: string): Promise<CustomerState> {
  return billing().getCustomerState(userId);
}

export function checkFeature(userId: string, feature: string, quantity = 1, params: Record<string, string> = {}): Promise<Decision> {
  return billing().check({ host_user_id: userId, feature, quantity, params });
}

/** coinslot's error envelope, for a route handler that passes an error on to the browser. */
export function errorResponse(error: unknown): Response {
  if (error instanceof CoinslotError) {
    const status = error.status >= 400 ? error.status : 502;
    return Response.json({ error: { code: error.code, message: error.message, field: error.field } }, { status });
  }
  throw error;
}
