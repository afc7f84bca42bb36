// The running coinslot + stripesim that tests/examples/ started (environment variables), and paying as a user.
import { createServer, type Server } from "node:http";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through pytest tests/examples (it starts coinslot)`);
  return value;
}

export const STRIPESIM_URL = required("STRIPESIM_URL");
export const WEBHOOK_PORT = Number(required("COINSLOT_WEBHOOK_PORT"));

export async function pay(checkoutUrl: string): Promise<string> {
  const sessionId = /cs_[A-Za-z0-9_]+/.exec(checkoutUrl)?.[0];
  if (!sessionId) throw new Error(`no Checkout Session id in ${checkoutUrl}`);
  const answer = await fetch(`${STRIPESIM_URL}/_sim/checkout/sessions/${sessionId}/complete`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ payment_method: "pm_card_visa" }),
  });
  if (answer.status !== 200) throw new Error(`stripesim refused the payment: ${await answer.text()}`);
  return sessionId;
}

export async function eventually<T>(read: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Serve a route handler (`(Request) => Promise<Response>`) over HTTP, as Next.js does, on `port`. */
export async function serveRoute(port: number, handler: (request: Request) => Promise<Response>): Promise<Server> {
  const server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === "string") headers.set(name, value);
    const request = new Request(`http://127.0.0.1:${port}${incoming.url}`, {
      method: incoming.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    const response = await handler(request);
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}
