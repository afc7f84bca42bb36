import { Webhook, WebhookVerificationError } from "standardwebhooks";

/** A subscription as the `subscription.*` events carry it. */
export interface EventSubscription {
  id: string;
  status: string;
  plan_key: string | null;
  interval: string | null;
  cancel_at_period_end: boolean;
  pending_plan_key: string | null;
  current_period_end: string | null;
}

interface Event<Type extends string, Data> {
  type: Type;
  /** When the change committed (ISO 8601, UTC). Order of delivery is not guaranteed: compare these. */
  timestamp: string;
  data: Data;
}

interface CreditsData {
  host_user_id: string;
  customer_id: number;
  available_credits: number;
  period_credits: number;
}

/** The events coinslot sends your app (docs/outbound.md). */
export type CoinslotEvent =
  | Event<"subscription.created" | "subscription.updated", {
      host_user_id: string;
      subscription: EventSubscription;
      previous: Partial<EventSubscription> | null;
    }>
  | Event<"order.paid", {
      host_user_id: string;
      order_id: string;
      product_key: string;
      amount_minor: number;
      currency: string;
      checkout_session: string;
      paid_at: string;
    }>
  | Event<"credits.low" | "credits.exhausted", CreditsData>
  | Event<"payment.failed", {
      host_user_id: string;
      invoice: string;
      subscription: string | null;
      amount_due_minor: number;
      currency: string;
      attempt_count: number;
      next_payment_attempt: string | null;
    }>
  | Event<"alert.raised", { code: string; message: string; subject_type: string | null; subject_id: string | null }>;

/** The request is not a genuine, fresh coinslot webhook: answer 400 and ignore it. */
export class WebhookInvalid extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WebhookInvalid";
  }
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function lowered(headers: WebhookHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const entries: Iterable<[string, unknown]> = headers instanceof Headers ? headers.entries() : Object.entries(headers);
  for (const [name, value] of entries) {
    if (typeof value === "string") out[name.toLowerCase()] = value;
    else if (Array.isArray(value)) out[name.toLowerCase()] = value.join(" ");
  }
  return out;
}

/**
 * Check one of coinslot's outbound webhooks (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) on the **raw body**, before parsing it, and return the event.
 *
 * `secret` is COINSLOT_HOST_WEBHOOK_SECRET (`whsec_...`). Throws WebhookInvalid for a missing header, a
 * timestamp more than 5 minutes from now, no matching signature (one of several is enough, for a secret
 * being rotated) or a body that is not JSON. Deliveries are at least once: skip a `webhook-id` you handled.
 */
export function verifyWebhook(rawBody: string | Uint8Array, headers: WebhookHeaders, secret: string): CoinslotEvent {
  const sent = lowered(headers);
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
    if (!sent[name]) throw new WebhookInvalid(`missing ${name}`);
  }
  let webhook: Webhook;
  try {
    webhook = new Webhook(secret);
  } catch (error) {
    throw new TypeError("a webhook secret is whsec_ followed by base64 (COINSLOT_HOST_WEBHOOK_SECRET)", { cause: error });
  }
  try {
    return webhook.verify(rawBody, sent) as CoinslotEvent;
  } catch (error) {
    if (error instanceof WebhookVerificationError || error instanceof SyntaxError) {
      throw new WebhookInvalid(error instanceof SyntaxError ? "the body is not JSON" : error.message, { cause: error });
    }
    throw error;
  }
}

/** `verifyWebhook` for a Fetch API `Request` (a Next.js route handler, Hono, Remix, Bun, Deno): reads its body. */
export async function verifyWebhookRequest(request: Request, secret: string): Promise<CoinslotEvent> {
  return verifyWebhook(await request.text(), request.headers, secret);
}
