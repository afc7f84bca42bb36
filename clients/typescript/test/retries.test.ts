// Retries, through a proxy in front of the real coinslot that fails on purpose first: a 503 with
// Retry-After is waited out and the same request (same idempotency key) sent again; a dropped connection
// is retried; a call that is not safe to repeat is not; a lasting outage ends in the CoinslotError.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import { CoinslotClient, CoinslotError } from "../src/index.js";
import { COINSLOT_API_KEY, COINSLOT_URL } from "./support.js";

type Fault = "503" | "503-forever" | "drop" | "pass";
interface Seen {
  path: string;
  body: string;
  atMs: number;
}

let proxy: Server;
let proxyUrl: string;
let faults: Fault[] = [];
let seen: Seen[] = [];

before(async () => {
  proxy = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    seen.push({ path: request.url ?? "", body, atMs: Date.now() });
    const fault = faults.length ? faults.shift()! : "pass";
    if (fault === "503" || fault === "503-forever") {
      if (fault === "503-forever") faults.unshift("503-forever");
      response.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
      response.end(JSON.stringify({ error: { code: "stripe_unavailable", message: "Stripe cannot be reached: retry" } }));
      return;
    }
    if (fault === "drop") {
      request.socket.destroy();
      return;
    }
    const upstream = await fetch(`${COINSLOT_URL}${request.url}`, {
      method: request.method,
      headers: { authorization: request.headers.authorization ?? "", "content-type": "application/json" },
      body: request.method === "GET" ? undefined : body,
    });
    response.writeHead(upstream.status, { "content-type": "application/json" });
    response.end(await upstream.text());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  proxyUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

after(() => proxy.close());

function client(): CoinslotClient {
  faults = [];
  seen = [];
  return new CoinslotClient({ baseUrl: proxyUrl, apiKey: COINSLOT_API_KEY });
}

test("a 503 is waited out for its Retry-After, then the same consume is sent again and charged once", async () => {
  const billing = client();
  faults = ["503"];
  const used = await billing.consume({ host_user_id: "ts_retry", feature: "demo", idempotency_key: "retry-1" });
  assert.equal(used.allowed, true);
  assert.equal(seen.length, 2);
  assert.equal(seen[1]!.body, seen[0]!.body); // the same idempotency key
  assert.match(seen[0]!.body, /"idempotency_key":"retry-1"/);
  assert.ok(seen[1]!.atMs - seen[0]!.atMs >= 950, `retried after ${seen[1]!.atMs - seen[0]!.atMs} ms, not Retry-After's 1 s`);
});

test("a dropped connection is retried", async () => {
  const billing = client();
  faults = ["drop"];
  const state = await billing.getCustomerState("ts_retry");
  assert.equal(state.plan, "free");
  assert.equal(seen.length, 2);
});

test("an outage that lasts ends, after maxRetries, in the 503 as a CoinslotError", async () => {
  const billing = new CoinslotClient({ baseUrl: proxyUrl, apiKey: COINSLOT_API_KEY, maxRetries: 1 });
  faults = ["503-forever"];
  seen = [];
  const error = await billing.getCredits("ts_retry").catch((thrown: unknown) => thrown);
  assert.ok(error instanceof CoinslotError);
  assert.deepEqual([error.status, error.code, error.retryAfterS], [503, "stripe_unavailable", 1]);
  assert.equal(seen.length, 2);
});

test("creating an order is not repeated: a second draft would be saved", async () => {
  const billing = client();
  faults = ["503"];
  const error = await billing
    .createOrder({ host_user_id: "ts_retry", product: "anything", payload: {} })
    .catch((thrown: unknown) => thrown);
  assert.ok(error instanceof CoinslotError);
  assert.equal(error.status, 503);
  assert.equal(seen.length, 1);
});

test("coinslot that cannot be reached at all is status 0, code unreachable", async () => {
  const billing = new CoinslotClient({ baseUrl: "http://127.0.0.1:9", apiKey: COINSLOT_API_KEY, maxRetries: 0 });
  const error = await billing.listPlans().catch((thrown: unknown) => thrown);
  assert.ok(error instanceof CoinslotError);
  assert.deepEqual([error.status, error.code], [0, "unreachable"]);
});
