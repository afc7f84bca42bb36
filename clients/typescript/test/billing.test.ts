// A host backend's billing story through the client, against a real coinslot + stripesim: plans, a new user,
// subscribing, checks, consumes (and the 402), holds, buying credits, the state a page shows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoinslotClient, CoinslotError } from "../src/index.js";
import { COINSLOT_API_KEY, COINSLOT_URL, RETURN_URLS, pay } from "./support.js";

const billing = new CoinslotClient({ baseUrl: COINSLOT_URL, apiKey: COINSLOT_API_KEY });
const user = "ts_ada";

test("the plans are public: listed without a key, with their prices in minor units", async () => {
  const catalog = await new CoinslotClient({ baseUrl: COINSLOT_URL }).listPlans();
  assert.deepEqual(catalog.plans.map((plan) => plan.key), ["free", "core", "pro", "studio"]);
  const core = catalog.plans.find((plan) => plan.key === "core");
  assert.deepEqual(
    core?.prices.map((price) => [price.interval, price.amount_minor, price.currency, price.display_amount]),
    [["month", 499, "usd", "$4.99"]],
  );
  assert.equal(catalog.default_plan, "free");
  assert.deepEqual(catalog.features.find((feature) => feature.key === "export")?.credits, 3);
});

test("a user coinslot has never seen reads as a new user on the default plan, never a 404", async () => {
  const state = await billing.getCustomerState("ts_nobody");
  assert.equal(state.known, false);
  assert.equal(state.plan, "free");
  assert.equal(state.credits.available, 0);
  const decision = await billing.check({ host_user_id: "ts_nobody", feature: "export" });
  assert.deepEqual([decision.allowed, decision.reason], [false, "feature_not_in_plan"]);
});

test("subscribing: Checkout, paid at Stripe, fulfilled from the success page", async () => {
  const started = await billing.startCheckout({ host_user_id: user, plan: "core", interval: "month", ...RETURN_URLS });
  assert.equal(started.mode, "subscription");
  assert.equal(started.amount_total_minor, 499);
  assert.match(started.url, /^http:\/\/127\.0\.0\.1:\d+\//);
  await pay(started.session_id);
  const fulfilled = await billing.fulfilCheckout(started.session_id, { host_user_id: user });
  assert.equal(fulfilled.payment_status, "paid");
  const state = await billing.getCustomerState(user);
  assert.deepEqual([state.known, state.plan, state.access_reason], [true, "core", "active"]);
  assert.equal(state.credits.available, 25);
});

test("check answers without spending; consume spends once per idempotency key", async () => {
  const decision = await billing.check({ host_user_id: user, feature: "export" });
  assert.deepEqual([decision.allowed, decision.cost, decision.remaining], [true, 3, 22]);
  assert.equal((await billing.getCredits(user)).available_credits, 25);

  const used = await billing.consume({ host_user_id: user, feature: "export", idempotency_key: "export-1" });
  assert.deepEqual([used.allowed, used.cost, used.remaining, used.replayed], [true, 3, 22, false]);
  const again = await billing.consume({ host_user_id: user, feature: "export", idempotency_key: "export-1" });
  assert.deepEqual([again.entry_id, again.remaining, again.replayed], [used.entry_id, 22, true]);
  assert.equal((await billing.getCredits(user)).available_credits, 22);
});

test("a consume the balance cannot pay is a CoinslotError 402 with the envelope's code and figures", async () => {
  const refused = await billing
    .consume({ host_user_id: user, feature: "export", quantity: 10, idempotency_key: "export-big" })
    .then(() => assert.fail("a 30-credit use on 22 credits was accepted"), (error: unknown) => error);
  assert.ok(refused instanceof CoinslotError);
  assert.deepEqual([refused.status, refused.code], [402, "insufficient_credits"]);
  assert.match(refused.message, /need 30, have 22/);
  assert.deepEqual([refused.body?.needed, refused.body?.available], [30, 22]);
  assert.equal((await billing.getCredits(user)).available_credits, 22); // nothing was spent
});

test("bad input and a bad key are CoinslotErrors naming what to fix", async () => {
  const invalid = await billing
    .check({ host_user_id: user, feature: "export", quantity: 0 })
    .catch((error: unknown) => error);
  assert.ok(invalid instanceof CoinslotError);
  assert.deepEqual([invalid.status, invalid.code, invalid.field], [422, "invalid_input", "quantity"]);

  const stranger = new CoinslotClient({ baseUrl: COINSLOT_URL, apiKey: "cs_not_a_key" });
  const unauthorized = await stranger.getCredits(user).catch((error: unknown) => error);
  assert.ok(unauthorized instanceof CoinslotError);
  assert.deepEqual([unauthorized.status, unauthorized.code], [401, "unauthorized"]);
});

test("holds: reserved while a job runs, captured at the actual cost or released", async () => {
  const hold = await billing.createHold({ host_user_id: user, feature: "export", idempotency_key: "job-1", credits: 5 });
  assert.deepEqual([hold.allowed, hold.status, hold.cost], [true, "pending", 5]);
  const during = await billing.getCustomerState(user);
  assert.deepEqual([during.credits.available, during.credits.held], [17, 5]);
  assert.deepEqual(during.holds.map((pending) => pending.hold_id), [hold.hold_id]);

  const captured = await billing.captureHold(hold.hold_id, { credits: 4 });
  assert.equal(captured.kind, "capture");
  assert.equal((await billing.getCredits(user)).available_credits, 18); // 22 - 4: one credit came back

  const second = await billing.createHold({ host_user_id: user, feature: "export", idempotency_key: "job-2" });
  const released = await billing.releaseHold(second.hold_id);
  assert.equal(released.kind, "release");
  const after = await billing.getCustomerState(user);
  assert.deepEqual([after.credits.available, after.credits.held, after.holds], [18, 0, []]);
});

test("buying credits: a pack's Checkout, paid, fulfilled", async () => {
  const started = await billing.startCheckout({ host_user_id: user, pack: "credits", quantity: 25, ...RETURN_URLS });
  assert.deepEqual([started.mode, started.amount_total_minor], ["payment", 500]);
  await pay(started.session_id);
  const fulfilled = await billing.fulfilCheckout(started.session_id, { host_user_id: user });
  assert.equal(fulfilled.payment_status, "paid");
  const state = await billing.getCustomerState(user);
  assert.equal(state.credits.available, 43);
  assert.equal(state.credits.from_purchases, 25);
  assert.equal(state.features.find((feature) => feature.key === "export")?.uses_this_period, 2);
});

test("the ledger lists what happened, newest position first in the state", async () => {
  const state = await billing.getCustomerState(user);
  const page = await billing.listLedgerEntries(user, { limit: 100 });
  const kinds = page.data.map((entry) => entry.kind);
  assert.ok(kinds.includes("spend") && kinds.includes("capture") && kinds.includes("purchase"), kinds.join(","));
  assert.ok(state.ledger_position >= page.data.length);
});
