// The route handler app/api/coinslot-events receives coinslot's real, signed webhooks (coinslot delivers
// them to it over HTTP), handles each once, and refuses what coinslot did not sign.
import assert from "node:assert/strict";
import type { Server } from "node:http";
import { after, before, test } from "node:test";
import { POST } from "../app/api/coinslot-events/route";
import { startPlanCheckout } from "../lib/billing";
import { handled } from "../lib/events";
import { WEBHOOK_PORT, eventually, pay, serveRoute } from "./support";

const USER = "next_hooks";
const received: Array<{ headers: Headers; body: string; status: number }> = [];
let server: Server;

before(async () => {
  server = await serveRoute(WEBHOOK_PORT, async (request) => {
    const copy = request.clone();
    const response = await POST(request);
    received.push({ headers: copy.headers, body: await copy.text(), status: response.status });
    return response;
  });
  await pay(await startPlanCheckout(USER, "pro", "month"));
});

after(() => server.close());

test("coinslot's subscription.created reaches the handler, verified and handled once", async () => {
  const entry = await eventually(
    () => handled.find(({ event }) => event.type === "subscription.created" && event.data.host_user_id === USER),
    "subscription.created for the new subscriber",
  );
  assert.equal(entry.event.type, "subscription.created");
  if (entry.event.type === "subscription.created") assert.equal(entry.event.data.subscription.plan_key, "pro");
  assert.ok(received.every((delivery) => delivery.status === 200));
});

test("the same delivery again is acknowledged as a duplicate and not handled twice", async () => {
  const original = received.find((delivery) => delivery.body.includes(`"${USER}"`))!;
  const before = handled.length;
  const again = await POST(new Request("http://app.test/api/coinslot-events", { method: "POST", headers: original.headers, body: original.body }));
  assert.deepEqual([again.status, await again.json()], [200, { status: "duplicate" }]);
  assert.equal(handled.length, before);
});

test("a body coinslot did not sign is a 400", async () => {
  const original = received.find((delivery) => delivery.body.includes(`"${USER}"`))!;
  const forged = original.body.replace('"pro"', '"studio"');
  const answer = await POST(new Request("http://app.test/api/coinslot-events", { method: "POST", headers: original.headers, body: forged }));
  assert.equal(answer.status, 400);
  const unsigned = await POST(new Request("http://app.test/api/coinslot-events", { method: "POST", body: original.body }));
  assert.equal(unsigned.status, 400);
});
