// What the tests share: the running coinslot + stripesim that tests/clients/ started for them (given in
// environment variables), paying at stripesim like a user would, and a host endpoint for coinslot's webhooks.
import { createServer, type IncomingMessage, type Server } from "node:http";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through pytest tests/clients (it starts coinslot)`);
  return value;
}

export const COINSLOT_URL = required("COINSLOT_URL");
export const COINSLOT_API_KEY = required("COINSLOT_API_KEY");
export const STRIPESIM_URL = required("STRIPESIM_URL");
/** An origin coinslot accepts for success and cancel URLs (COINSLOT_ALLOWED_REDIRECT_ORIGINS). */
export const RETURN_ORIGIN = required("COINSLOT_RETURN_ORIGIN");
export const WEBHOOK_SECRET = required("COINSLOT_WEBHOOK_SECRET");
/** coinslot delivers its outbound webhooks to http://127.0.0.1:<this>/coinslot-events. */
export const WEBHOOK_PORT = Number(required("COINSLOT_WEBHOOK_PORT"));

export const RETURN_URLS = { success_url: `${RETURN_ORIGIN}/billing`, cancel_url: `${RETURN_ORIGIN}/pricing` };

/** Pay an open Checkout Session as a user would on the hosted page (stripesim's control route). */
export async function pay(sessionId: string, card = "pm_card_visa"): Promise<void> {
  const answer = await fetch(`${STRIPESIM_URL}/_sim/checkout/sessions/${sessionId}/complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ payment_method: card }),
  });
  if (answer.status !== 200) throw new Error(`stripesim refused the payment: ${answer.status} ${await answer.text()}`);
}

/** Poll `read` until it returns something, for at most `timeoutMs` (coinslot's worker and sender run on their own). */
export async function eventually<T>(read: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface Delivery {
  headers: Record<string, string>;
  body: string;
}

/** The host's webhook endpoint: records each raw delivery and answers 200. */
export async function webhookEndpoint(): Promise<{ deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) if (typeof value === "string") headers[name] = value;
    deliveries.push({ headers, body: Buffer.concat(chunks).toString("utf8") });
    response.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(WEBHOOK_PORT, "127.0.0.1", resolve));
  return { deliveries, server };
}
