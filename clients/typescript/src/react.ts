/**
 * React hooks for a user's billing, in the browser: `useCustomerState` and `useCheck`.
 *
 * A browser must never hold coinslot's API key, so the hooks do not call coinslot: they call your own
 * backend, which knows who is signed in and asks coinslot with the key. Give them either
 *
 *   - `url`: a route of your backend answering coinslot's JSON (`GET` → getCustomerState for the signed-in
 *     user; `POST {feature, quantity, params}` → check for the signed-in user; errors as coinslot's
 *     envelope), sent with the page's cookies; or
 *   - `fetcher`: a function returning the answer (a Next.js server action, your own API client).
 *
 *     const { data: state, loading, error, refresh } = useCustomerState({ url: "/api/billing/state" });
 *     const { data: decision } = useCheck({ url: "/api/billing/check", feature: "export" });
 *
 * docs/nextjs.md shows both backend routes.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { CoinslotError } from "./errors.js";
import type { CustomerState, Decision } from "./types.js";

export interface Loaded<T> {
  /** The last answer (kept while a refresh runs), or null before the first. */
  data: T | null;
  /** The last call's error: a CoinslotError (`code`, `status`, `message`) or what the fetcher threw. */
  error: unknown;
  loading: boolean;
  /** Ask again (after a purchase, a consume): resolves when the new answer is in. */
  refresh: () => Promise<void>;
}

export interface CustomerStateSource {
  /** Your backend's route answering the signed-in user's `getCustomerState` (GET). */
  url?: string;
  fetcher?: (signal: AbortSignal) => Promise<CustomerState>;
  /** Ask again every this many ms while mounted (0, the default: only on mount and refresh()). */
  refreshIntervalMs?: number;
}

export interface CheckRequest {
  feature: string;
  quantity?: number;
  params?: Record<string, string>;
}

export interface CheckSource extends CheckRequest {
  /** Your backend's route answering the signed-in user's `check` (POST {feature, quantity, params}). */
  url?: string;
  fetcher?: (request: CheckRequest, signal: AbortSignal) => Promise<Decision>;
}

async function fetchJson<T>(url: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      credentials: "same-origin",
      ...init,
      headers: { accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}) },
    });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new CoinslotError(0, "unreachable", `${url} could not be reached`, { cause: error });
  }
  if (!response.ok) throw await CoinslotError.fromResponse(response);
  return (await response.json()) as T;
}

/** The shared loop: one call at a time, the previous one aborted, nothing set after unmount. */
function useLoaded<T>(load: (signal: AbortSignal) => Promise<T>, key: string, refreshIntervalMs = 0): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const current = useRef<AbortController | null>(null);

  const refresh = useCallback(async () => {
    current.current?.abort();
    const controller = new AbortController();
    current.current = controller;
    setLoading(true);
    try {
      const answer = await loadRef.current(controller.signal);
      if (controller.signal.aborted) return;
      setData(answer);
      setError(null);
    } catch (thrown) {
      if (controller.signal.aborted) return;
      setError(thrown);
    } finally {
      if (!controller.signal.aborted) setLoading(false);
    }
  }, []);

  useEffect(() => {
    void refresh();
    const timer = refreshIntervalMs > 0 ? setInterval(() => void refresh(), refreshIntervalMs) : null;
    return () => {
      if (timer !== null) clearInterval(timer);
      current.current?.abort();
    };
  }, [key, refreshIntervalMs, refresh]);

  return { data, error, loading, refresh };
}

function requireOne(hook: string, source: { url?: string; fetcher?: unknown }): void {
  if (!source.url === !source.fetcher) throw new TypeError(`${hook}: give either url or fetcher`);
}

/** The signed-in user's plan, access, credits (with their parts), features, holds and open orders. */
export function useCustomerState(source: CustomerStateSource): Loaded<CustomerState> {
  requireOne("useCustomerState", source);
  const load = (signal: AbortSignal) =>
    source.fetcher ? source.fetcher(signal) : fetchJson<CustomerState>(source.url!, { method: "GET", signal });
  return useLoaded(load, source.url ?? "fetcher", source.refreshIntervalMs);
}

/** May the signed-in user use `feature` now (`allowed`, `cost`, `remaining`, `reason`)? Nothing is spent. */
export function useCheck(source: CheckSource): Loaded<Decision> {
  requireOne("useCheck", source);
  const request: CheckRequest = { feature: source.feature, quantity: source.quantity ?? 1, params: source.params ?? {} };
  const load = (signal: AbortSignal) =>
    source.fetcher
      ? source.fetcher(request, signal)
      : fetchJson<Decision>(source.url!, { method: "POST", body: JSON.stringify(request), signal });
  return useLoaded(load, `${source.url ?? "fetcher"} ${JSON.stringify(request)}`);
}
