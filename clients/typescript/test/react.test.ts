// The hooks in a React tree (jsdom), calling a host backend that proxies a real coinslot for its signed-in
// user, as a browser page would: loading, the answer, refresh after a change, errors as CoinslotError.
import "./dom.js";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, test } from "node:test";
import { act, createElement } from "react";
import { createRoot, type Root } from "react-dom/client";
import { CoinslotClient, CoinslotError } from "../src/index.js";
import { useCheck, useCustomerState, type Loaded } from "../src/react.js";
import { COINSLOT_API_KEY, COINSLOT_URL } from "./support.js";

const USER = "ts_react";
const coinslot = new CoinslotClient({ baseUrl: COINSLOT_URL, apiKey: COINSLOT_API_KEY });
const wrongKey = new CoinslotClient({ baseUrl: COINSLOT_URL, apiKey: "cs_wrong", maxRetries: 0 });
let backend: Server;
let backendUrl: string;
let checksSeen: unknown[] = [];

// The host's backend: the signed-in user is USER (a session would say so); it holds the API key.
before(async () => {
  backend = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    try {
      let answer: unknown;
      if (request.url === "/billing/state") answer = await coinslot.getCustomerState(USER);
      else if (request.url === "/billing/state-misconfigured") answer = await wrongKey.getCustomerState(USER);
      else if (request.url === "/billing/check") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        checksSeen.push(body);
        answer = await coinslot.check({ ...body, host_user_id: USER });
      } else throw new CoinslotError(404, "not_found", "no such route");
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
    } catch (error) {
      const refused = error as CoinslotError;
      response.writeHead(refused.status || 502, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { code: refused.code, message: refused.message, field: refused.field } }));
    }
  });
  await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
  const address = backend.address();
  backendUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

after(() => backend.close());

/** Mount a component that calls `hook`; read its latest result. */
function mount<T>(hook: () => Loaded<T>): { latest: () => Loaded<T>; root: Root } {
  let latest: Loaded<T> | null = null;
  function Probe() {
    latest = hook();
    return null;
  }
  const container = document.createElement("div");
  document.body.append(container);
  const root = createRoot(container);
  act(() => root.render(createElement(Probe)));
  return { latest: () => latest!, root };
}

async function until<T>(read: () => Loaded<T>, done: (value: Loaded<T>) => boolean): Promise<Loaded<T>> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (done(read())) return read();
    await act(() => new Promise((resolve) => setTimeout(resolve, 25)));
  }
  throw new Error(`the hook never got there: ${JSON.stringify(read())}`);
}

test("useCustomerState loads the user's state through the host's backend, and refresh() reads it again", async () => {
  const { latest, root } = mount(() => useCustomerState({ url: `${backendUrl}/billing/state` }));
  assert.equal(latest().loading, true);
  assert.equal(latest().data, null);
  const loaded = await until(latest, (value) => !value.loading);
  assert.equal(loaded.error, null);
  assert.deepEqual([loaded.data?.host_user_id, loaded.data?.plan, loaded.data?.credits.available], [USER, "free", 0]);

  await coinslot.ensureCustomer({ host_user_id: USER, stripe: false });
  await coinslot.adjustCredits(USER, { credits: 7, reason: "welcome gift", idempotency_key: "react-gift" });
  await act(() => latest().refresh());
  assert.equal(latest().data?.credits.available, 7);
  assert.equal(latest().data?.credits.from_adjustments, 7);
  act(() => root.unmount());
});

test("useCheck asks the backend about one feature and gives coinslot's decision", async () => {
  checksSeen = [];
  const { latest, root } = mount(() => useCheck({ url: `${backendUrl}/billing/check`, feature: "export" }));
  const refused = await until(latest, (value) => !value.loading);
  assert.deepEqual([refused.data?.allowed, refused.data?.reason, refused.data?.cost], [false, "feature_not_in_plan", 3]);
  assert.deepEqual(checksSeen, [{ feature: "export", quantity: 1, params: {} }]);
  act(() => root.unmount());
});

test("a fetcher (a server action) can stand in for the URL", async () => {
  const asked: unknown[] = [];
  const { latest, root } = mount(() =>
    useCheck({
      feature: "demo",
      quantity: 2,
      fetcher: (request) => {
        asked.push(request);
        return coinslot.check({ ...request, host_user_id: USER });
      },
    }),
  );
  const allowed = await until(latest, (value) => !value.loading);
  assert.deepEqual([allowed.data?.allowed, allowed.data?.cost], [true, 0]);
  assert.deepEqual(asked, [{ feature: "demo", quantity: 2, params: {} }]);
  act(() => root.unmount());
});

test("an error the backend passes on is a CoinslotError with coinslot's code", async () => {
  const { latest, root } = mount(() => useCustomerState({ url: `${backendUrl}/billing/state-misconfigured` }));
  const failed = await until(latest, (value) => !value.loading);
  assert.ok(failed.error instanceof CoinslotError);
  assert.deepEqual([failed.error.status, failed.error.code], [401, "unauthorized"]);
  assert.equal(failed.data, null);
  act(() => root.unmount());
});
