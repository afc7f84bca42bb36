// coinslot's outbound webhooks, as a host receives them: a real delivery (coinslot signs it after a
// subscription starts) passes verifyWebhook; the same delivery altered, stale or unsigned does not.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CoinslotClient, verifyWebhook, verifyWebhookRequest, WebhookInvalid, type CoinslotEvent } from "../src/index.js";
import { COINSLOT_API_KEY, COINSLOT_URL, RETURN_URLS, WEBHOOK_SECRET, eventually, pay, webhookEndpoint, type Delivery } from "./support.js";

const billing = new CoinslotClient({ baseUrl: COINSLOT_URL, apiKey: COINSLOT_API_KEY });
const user = "ts_webhooks";
let endpoint: Awaited<ReturnType<typeof webhookEndpoint>>;
let delivery: Delivery;

before(async () => {
  endpoint = await webhookEndpoint();
  const started = await billing.startCheckout({ host_user_id: user, plan: "pro", interval: "month", ...RETURN_URLS });
  await pay(started.session_id);
  delivery = await eventually(
    () => endpoint.deliveries.find((sent) => sent.body.includes(`"subscription.created"`) && sent.body.includes(`"${user}"`)),
    "coinslot's subscription.created webhook",
  );
});

after(() => endpoint.server.close());

test("a delivery coinslot signed verifies, and gives the typed event", () => {
  const event: CoinslotEvent = verifyWebhook(delivery.body, delivery.headers, WEBHOOK_SECRET);
  assert.equal(event.type, "subscription.created");
  if (event.type !== "subscription.created") return;
  assert.equal(event.data.host_user_id, user);
  assert.equal(event.data.subscription.plan_key, "pro");
  assert.match(delivery.headers["webhook-id"] ?? "", /^msg_/);
});

test("a Fetch API Request (a route handler's) verifies the same way", async () => {
  const request = new Request("http://host.test/coinslot-events", { method: "POST", headers: delivery.headers, body: delivery.body });
  assert.equal((await verifyWebhookRequest(request, WEBHOOK_SECRET)).type, "subscription.created");
});

test("an altered body, another secret, a stale timestamp or a missing header is refused", () => {
  const altered = delivery.body.replace(`"${user}"`, `"someone_else"`);
  assert.throws(() => verifyWebhook(altered, delivery.headers, WEBHOOK_SECRET), WebhookInvalid);
  assert.throws(() => verifyWebhook(delivery.body, delivery.headers, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), WebhookInvalid);
  const stale = { ...delivery.headers, "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 3600) };
  assert.throws(() => verifyWebhook(delivery.body, stale, WEBHOOK_SECRET), WebhookInvalid);
  const { "webhook-signature": _signature, ...unsigned } = delivery.headers;
  assert.throws(() => verifyWebhook(delivery.body, unsigned, WEBHOOK_SECRET), /missing webhook-signature/);
});
