// The example's server code against a real coinslot + stripesim: the checkout a server action and the
// pricing element start, the success page's fulfil, the guarded action's consume and its upgrade prompt,
// and the routes the React hooks read.
import assert from "node:assert/strict";
import { test } from "node:test";
import { POST as checkoutRoute } from "../app/api/checkout/route";
import { POST as checkRoute } from "../app/api/billing/check/route";
import { GET as stateRoute } from "../app/api/billing/state/route";
import { consumeFeature, finishCheckout, startPlanCheckout } from "../lib/billing";
import { STRIPESIM_URL, pay } from "./support";

const USER = "next_ada";
const asUser = { cookie: `theme=dark; demo_user=${USER}` };

test("on the free plan the guarded action answers with an upgrade prompt, not an error", async () => {
  const result = await consumeFeature(USER, "export", "req-free-1");
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.upgrade, true);
  assert.equal(result.reason, "feature_not_in_plan");
});

test("the pricing element's checkout URL starts Checkout for the signed-in user; paying and the success page give the plan", async () => {
  const answer = await checkoutRoute(new Request("http://app.test/api/checkout", {
    method: "POST", headers: { ...asUser, "content-type": "application/json" },
    body: JSON.stringify({ plan: "core", interval: "month" }),
  }));
  assert.equal(answer.status, 200);
  const { url } = (await answer.json()) as { url: string };
  assert.ok(url.startsWith(STRIPESIM_URL), url);
  const sessionId = await pay(url);
  const state = await finishCheckout(USER, sessionId);
  assert.deepEqual([state.plan, state.credits.available], ["core", 25]);
});

test("the checkout route refuses a body without a plan and an interval", async () => {
  const answer = await checkoutRoute(new Request("http://app.test/api/checkout", { method: "POST", body: "{}" }));
  assert.equal(answer.status, 422);
});

test("the guarded action spends 3 credits a use, once per request id, then prompts to upgrade", async () => {
  const remaining: Array<number | null> = [];
  for (let use = 1; use <= 8; use += 1) {
    const result = await consumeFeature(USER, "export", `req-${use}`);
    assert.ok(result.ok, JSON.stringify(result));
    remaining.push(result.remaining);
  }
  assert.deepEqual(remaining, [22, 19, 16, 13, 10, 7, 4, 1]);
  assert.deepEqual(await consumeFeature(USER, "export", "req-8"), { ok: true, remaining: 1 }); // a retry: not charged
  const refused = await consumeFeature(USER, "export", "req-9");
  assert.deepEqual(refused, { ok: false, upgrade: true, reason: "insufficient_credits", message: "insufficient credits: need 3, have 1" });
});

test("the hooks' routes answer for the signed-in user from the cookie", async () => {
  const state = await stateRoute(new Request("http://app.test/api/billing/state", { headers: asUser }));
  assert.equal(state.status, 200);
  const body = (await state.json()) as { host_user_id: string; plan: string; credits: { available: number } };
  assert.deepEqual([body.host_user_id, body.plan, body.credits.available], [USER, "core", 1]);

  const check = await checkRoute(new Request("http://app.test/api/billing/check", {
    method: "POST", headers: asUser, body: JSON.stringify({ feature: "export" }),
  }));
  const decision = (await check.json()) as { allowed: boolean; reason: string };
  assert.deepEqual([decision.allowed, decision.reason], [false, "insufficient_credits"]);

  const invalid = await checkRoute(new Request("http://app.test/api/billing/check", {
    method: "POST", headers: asUser, body: JSON.stringify({ feature: "export", quantity: 0 }),
  }));
  assert.equal(invalid.status, 422);
  assert.equal(((await invalid.json()) as { error: { field: string } }).error.field, "quantity");
});

test("a server action's checkout goes to Stripe for the chosen plan and interval", async () => {
  const url = await startPlanCheckout("next_bo", "pro", "month");
  assert.ok(url.startsWith(`${STRIPESIM_URL}/`), url);
});
