// coinslot's webhooks to this app (subscription changes, paid orders, low credits...): verified on the raw
// body, each handled once. The handled ids and the effects live in memory here; use your database.
import { verifyWebhook, WebhookInvalid, type CoinslotEvent } from "@coinslot/client";
import { config } from "./config";

/** What the handlers did, newest last (the example's stand-in for emails and your own tables). */
export const handled: Array<{ webhookId: string; event: CoinslotEvent }> = [];
const seen = new Set<string>();

function onEvent(event: CoinslotEvent): void {
  switch (event.type) {
    case "subscription.created":
    case "subscription.updated":
      // e.g. update the plan badge you cache on the user, send a welcome email
      break;
    case "credits.low":
    case "credits.exhausted":
      // e.g. email the user a link to buy credits
      break;
    case "payment.failed":
      // e.g. show a banner asking to update the card
      break;
    default:
      break;
  }
}

// snippet:webhook
/** The route handler's work: 400 for anything not signed by coinslot, 200 once handled (or seen before). */
export async function receiveCoinslotWebhook(request: Request): Promise<Response> {
  const body = await request.text(); // the raw body: the signature covers its bytes
  let event: CoinslotEvent;
  try {
    event = verifyWebhook(body, request.headers, config.webhookSecret);
  } catch (error) {
    if (error instanceof WebhookInvalid) return Response.json({ error: error.message }, { status: 400 });
    throw error;
  }
  const webhookId = request.headers.get("webhook-id")!; // the same on every retry of one message
  if (seen.has(webhookId)) return Response.json({ status: "duplicate" });
  onEvent(event);
  seen.add(webhookId);
  handled.push({ webhookId, event });
  return Response.json({ status: "ok" });
}
// snippet:end
