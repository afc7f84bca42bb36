import { CoinslotError } from "./errors.js";
import type { operations } from "./generated/openapi.js";
import { OPERATIONS, type OperationId } from "./generated/operations.js";
import type { Answer, Query, RequestBody } from "./types.js";

export interface CoinslotClientOptions {
  /** Where coinslot answers, e.g. `https://billing.internal:8000`. */
  baseUrl: string;
  /** `cs_...` from `coinslot keys create`. Only `listPlans` works without one. Never ship it to a browser. */
  apiKey?: string;
  /** One try's limit; past it the try counts as a connection error (retried). Default 10 s. */
  timeoutMs?: number;
  /** Tries after the first, on 503, 429 and connection errors. Default 2. */
  maxRetries?: number;
  /** A `fetch` of your own (a proxy, instrumentation); default the platform's. */
  fetch?: typeof fetch;
}

export interface CallOptions {
  /** Cancels the call (and its retries): the AbortError is thrown as is. */
  signal?: AbortSignal;
}

// Waits are capped so a misconfigured proxy's `Retry-After: 3600` cannot hang a request handler.
const MAX_RETRY_AFTER_S = 30;
const RETRYABLE_STATUSES = new Set([429, 503]);
// Sending these twice does more than sending them once (a second draft order): never retried. Every other
// operation is a read, or a write coinslot makes idempotent (an idempotency key, an id in the path, a
// Checkout for the same user and item), and is sent again as it was, with the same idempotency key.
const NOT_RETRY_SAFE: ReadonlySet<OperationId> = new Set(["createOrder"]);

type PathParams<K extends OperationId> = operations[K]["parameters"]["path"];

interface Request<K extends OperationId> {
  path?: PathParams<K>;
  query?: Query<K>;
  body?: RequestBody<K>;
}

/**
 * A client of coinslot's REST API (`/v1`), for your backend: one method per operation, named as the
 * OpenAPI document names it, typed from it. Errors are thrown as `CoinslotError`.
 *
 *     const billing = new CoinslotClient({ baseUrl: process.env.COINSLOT_URL!, apiKey: process.env.COINSLOT_API_KEY });
 *     await billing.consume({ host_user_id: "user_42", feature: "export", idempotency_key: requestId });
 *
 * Retries: a 503 (billing paused, Stripe or the database unreachable), a 429 or a connection error is
 * tried again up to `maxRetries` times after the server's `Retry-After` (else 0.2 s, 0.4 s, ...), with the
 * same body, so a consume's idempotency key is charged once.
 */
export class CoinslotClient {
  private readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: CoinslotClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 2;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  // --- entitlements: may the user, and spend ------------------------------------------------------

  /** May the user use `feature` now? Nothing is spent. `remaining`: credits left after this use. */
  check(body: RequestBody<"check">, options?: CallOptions): Promise<Answer<"check">> {
    return this.send("check", { body }, options);
  }

  /** Check and spend in one call; refused: CoinslotError 402 (`insufficient_credits`, ...). One idempotency key is charged once. */
  consume(body: RequestBody<"consume">, options?: CallOptions): Promise<Answer<"consume">> {
    return this.send("consume", { body }, options);
  }

  /** Reserve credits before a long job; capture or release it afterwards (it releases itself at `timeout_s`). */
  createHold(body: RequestBody<"createHold">, options?: CallOptions): Promise<Answer<"createHold">> {
    return this.send("createHold", { body }, options);
  }

  /** Charge a hold's actual cost; less than the hold gives the rest back. */
  captureHold(holdId: number, body: RequestBody<"captureHold">, options?: CallOptions): Promise<Answer<"captureHold">> {
    return this.send("captureHold", { path: { hold_id: holdId }, body }, options);
  }

  /** Give a hold's credits back unused. */
  releaseHold(holdId: number, options?: CallOptions): Promise<Answer<"releaseHold">> {
    return this.send("releaseHold", { path: { hold_id: holdId } }, options);
  }

  // --- checkout and orders ---------------------------------------------------------------------------

  /** A hosted Checkout for a plan, a credit pack or a product: redirect the browser to `url`. */
  startCheckout(body: RequestBody<"startCheckout">, options?: CallOptions): Promise<Answer<"startCheckout">> {
    return this.send("startCheckout", { body }, options);
  }

  /** From the success page: applies the purchase now if it is paid (idempotent; the webhook would too). */
  fulfilCheckout(sessionId: string, query?: Query<"fulfilCheckout">, options?: CallOptions): Promise<Answer<"fulfilCheckout">> {
    return this.send("fulfilCheckout", { path: { session_id: sessionId }, query }, options);
  }

  /** Save a DRAFT order with the user's form, before sending them to pay (not retried). */
  createOrder(body: RequestBody<"createOrder">, options?: CallOptions): Promise<Answer<"createOrder">> {
    return this.send("createOrder", { body }, options);
  }

  listOrders(query?: Query<"listOrders">, options?: CallOptions): Promise<Answer<"listOrders">> {
    return this.send("listOrders", { query }, options);
  }

  getOrder(orderId: string, query?: Query<"getOrder">, options?: CallOptions): Promise<Answer<"getOrder">> {
    return this.send("getOrder", { path: { order_id: orderId }, query }, options);
  }

  /** Checkout for a DRAFT order: the first time, or resuming after an abandoned one. */
  startOrderCheckout(orderId: string, body: RequestBody<"startOrderCheckout">, options?: CallOptions): Promise<Answer<"startOrderCheckout">> {
    return this.send("startOrderCheckout", { path: { order_id: orderId }, body }, options);
  }

  /** Move an order on: "fulfilled" or "canceled". */
  setOrderStatus(orderId: string, body: RequestBody<"setOrderStatus">, options?: CallOptions): Promise<Answer<"setOrderStatus">> {
    return this.send("setOrderStatus", { path: { order_id: orderId }, body }, options);
  }

  // --- customers, their state and credits ---------------------------------------------------------

  /** Get or create the customer (and by default its Stripe customer). */
  ensureCustomer(body: RequestBody<"ensureCustomer">, options?: CallOptions): Promise<Answer<"ensureCustomer">> {
    return this.send("ensureCustomer", { body }, options);
  }

  getCustomer(hostUserId: string, options?: CallOptions): Promise<Answer<"getCustomer">> {
    return this.send("getCustomer", { path: { host_user_id: hostUserId } }, options);
  }

  /** Everything a page needs about a user: plan, access, period, balance and its parts, features, holds, orders. */
  getCustomerState(hostUserId: string, options?: CallOptions): Promise<Answer<"getCustomerState">> {
    return this.send("getCustomerState", { path: { host_user_id: hostUserId } }, options);
  }

  getCredits(hostUserId: string, options?: CallOptions): Promise<Answer<"getCredits">> {
    return this.send("getCredits", { path: { host_user_id: hostUserId } }, options);
  }

  listLedgerEntries(hostUserId: string, query?: Query<"listLedgerEntries">, options?: CallOptions): Promise<Answer<"listLedgerEntries">> {
    return this.send("listLedgerEntries", { path: { host_user_id: hostUserId }, query }, options);
  }

  getUsageHistory(hostUserId: string, query?: Query<"getUsageHistory">, options?: CallOptions): Promise<Answer<"getUsageHistory">> {
    return this.send("getUsageHistory", { path: { host_user_id: hostUserId }, query }, options);
  }

  getAutoTopup(hostUserId: string, options?: CallOptions): Promise<Answer<"getAutoTopup">> {
    return this.send("getAutoTopup", { path: { host_user_id: hostUserId } }, options);
  }

  /** The customer agreed to the consent text: answers the Stripe page where they save the card. */
  turnOnAutoTopup(hostUserId: string, body: RequestBody<"turnOnAutoTopup">, options?: CallOptions): Promise<Answer<"turnOnAutoTopup">> {
    return this.send("turnOnAutoTopup", { path: { host_user_id: hostUserId }, body }, options);
  }

  turnOffAutoTopup(hostUserId: string, options?: CallOptions): Promise<Answer<"turnOffAutoTopup">> {
    return this.send("turnOffAutoTopup", { path: { host_user_id: hostUserId } }, options);
  }

  spendCredits(hostUserId: string, body: RequestBody<"spendCredits">, options?: CallOptions): Promise<Answer<"spendCredits">> {
    return this.send("spendCredits", { path: { host_user_id: hostUserId }, body }, options);
  }

  adjustCredits(hostUserId: string, body: RequestBody<"adjustCredits">, options?: CallOptions): Promise<Answer<"adjustCredits">> {
    return this.send("adjustCredits", { path: { host_user_id: hostUserId }, body }, options);
  }

  // --- subscriptions, the portal, links to coinslot's pages ----------------------------------------

  cancelSubscription(hostUserId: string, options?: CallOptions): Promise<Answer<"cancelSubscription">> {
    return this.send("cancelSubscription", { path: { host_user_id: hostUserId } }, options);
  }

  resumeSubscription(hostUserId: string, options?: CallOptions): Promise<Answer<"resumeSubscription">> {
    return this.send("resumeSubscription", { path: { host_user_id: hostUserId } }, options);
  }

  changePlan(hostUserId: string, body: RequestBody<"changePlan">, options?: CallOptions): Promise<Answer<"changePlan">> {
    return this.send("changePlan", { path: { host_user_id: hostUserId }, body }, options);
  }

  previewPlanChange(hostUserId: string, body: RequestBody<"previewPlanChange">, options?: CallOptions): Promise<Answer<"previewPlanChange">> {
    return this.send("previewPlanChange", { path: { host_user_id: hostUserId }, body }, options);
  }

  /** What a per-seat plan's new seat count would charge now (Stripe's proration); nothing changes. */
  previewSeats(hostUserId: string, body: RequestBody<"previewSeats">, options?: CallOptions): Promise<Answer<"previewSeats">> {
    return this.send("previewSeats", { path: { host_user_id: hostUserId }, body }, options);
  }

  /** Set the seats now, prorated and invoiced at once; pass the preview's `proration_date`. */
  changeSeats(hostUserId: string, body: RequestBody<"changeSeats">, options?: CallOptions): Promise<Answer<"changeSeats">> {
    return this.send("changeSeats", { path: { host_user_id: hostUserId }, body }, options);
  }

  previewAddon(hostUserId: string, body: RequestBody<"previewAddon">, options?: CallOptions): Promise<Answer<"previewAddon">> {
    return this.send("previewAddon", { path: { host_user_id: hostUserId }, body }, options);
  }

  /** Put an add-on on the subscription now (prorated, invoiced at once); it renews with the plan. */
  addAddon(hostUserId: string, body: RequestBody<"addAddon">, options?: CallOptions): Promise<Answer<"addAddon">> {
    return this.send("addAddon", { path: { host_user_id: hostUserId }, body }, options);
  }

  removeAddon(hostUserId: string, addon: string, options?: CallOptions): Promise<Answer<"removeAddon">> {
    return this.send("removeAddon", { path: { host_user_id: hostUserId, addon } }, options);
  }

  createPortalSession(hostUserId: string, body: RequestBody<"createPortalSession">, options?: CallOptions): Promise<Answer<"createPortalSession">> {
    return this.send("createPortalSession", { path: { host_user_id: hostUserId }, body }, options);
  }

  /** A short-lived signed link to coinslot's billing, pricing or credits page for this user. */
  createLink(body: RequestBody<"createLink">, options?: CallOptions): Promise<Answer<"createLink">> {
    return this.send("createLink", { body }, options);
  }

  // --- the catalog and Stripe's events ---------------------------------------------------------------

  /** What is sold (public: works without an API key). */
  listPlans(options?: CallOptions): Promise<Answer<"listPlans">> {
    return this.send("listPlans", {}, options);
  }

  listEvents(query?: Query<"listEvents">, options?: CallOptions): Promise<Answer<"listEvents">> {
    return this.send("listEvents", { query }, options);
  }

  getEvent(eventId: string, options?: CallOptions): Promise<Answer<"getEvent">> {
    return this.send("getEvent", { path: { event_id: eventId } }, options);
  }

  // --- sending -------------------------------------------------------------------------------------------

  private async send<K extends OperationId>(operation: K, request: Request<K>, options: CallOptions = {}): Promise<Answer<K>> {
    const { method } = OPERATIONS[operation];
    const url = this.url(operation, request);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (request.body !== undefined) headers["content-type"] = "application/json";
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    for (let attempt = 0; ; attempt += 1) {
      let error: CoinslotError;
      try {
        const response = await this.fetchImpl(url, { method, headers, body, signal: this.signal(options.signal) });
        if (response.ok) return (await response.json()) as Answer<K>;
        error = await CoinslotError.fromResponse(response);
      } catch (thrown) {
        if (options.signal?.aborted) throw thrown; // the caller's own cancel: not coinslot's failure
        if (thrown instanceof CoinslotError) throw thrown;
        error = new CoinslotError(0, "unreachable", `coinslot could not be reached: ${describe(thrown)}`, { cause: thrown });
      }
      const waitS = this.waitS(operation, error, attempt);
      if (waitS === null) throw error;
      await sleep(waitS * 1000, options.signal);
    }
  }

  /** How long to wait before sending `operation` again after `error`, or null to give up. */
  private waitS(operation: OperationId, error: CoinslotError, attempt: number): number | null {
    if (NOT_RETRY_SAFE.has(operation) || attempt >= this.maxRetries) return null;
    if (!RETRYABLE_STATUSES.has(error.status) && error.code !== "unreachable") return null;
    return Math.min(error.retryAfterS ?? 0.2 * 2 ** attempt, MAX_RETRY_AFTER_S);
  }

  private url<K extends OperationId>(operation: K, request: Request<K>): string {
    const params = (request.path ?? {}) as Record<string, string | number>;
    const path = OPERATIONS[operation].path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new TypeError(`${operation}: the path needs ${name}`);
      return encodeURIComponent(String(value));
    });
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
      if (value !== undefined && value !== null) query.append(name, String(value));
    }
    const search = query.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ""}`;
  }

  private signal(caller: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return caller ? eitherSignal(caller, timeout) : timeout;
  }
}

/** Aborted when either is (AbortSignal.any, which Node 18 lacks). */
function eitherSignal(first: AbortSignal, second: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === "function") return AbortSignal.any([first, second]);
  const both = new AbortController();
  for (const signal of [first, second]) {
    if (signal.aborted) both.abort(signal.reason);
    else signal.addEventListener("abort", () => both.abort(signal.reason), { once: true });
  }
  return both.signal;
}

function describe(thrown: unknown): string {
  if (thrown instanceof Error) {
    const cause = thrown.cause instanceof Error ? ` (${thrown.cause.message})` : "";
    return thrown.name === "TimeoutError" ? "timed out" : `${thrown.message}${cause}`;
  }
  return String(thrown);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// Every operation of the document has its method: a new route fails the build until it is added here.
type Missing = Exclude<OperationId, keyof CoinslotClient>;
const everyOperationHasAMethod: [Missing] extends [never] ? true : Missing = true;
void everyOperationHasAMethod;
