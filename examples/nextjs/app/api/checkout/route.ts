// The pricing element's checkout-url: it POSTs {plan, interval}; we answer {url} and it follows it.
import { errorResponse, startPlanCheckout } from "../../../lib/billing";
import { userFromCookieHeader } from "../../../lib/session";

export async function POST(request: Request): Promise<Response> {
  const chosen = (await request.json().catch(() => null)) as { plan?: unknown; interval?: unknown } | null;
  if (typeof chosen?.plan !== "string" || (chosen.interval !== "month" && chosen.interval !== "year")) {
    return Response.json({ error: { code: "invalid_input", message: "send {plan, interval}" } }, { status: 422 });
  }
  try {
    const url = await startPlanCheckout(userFromCookieHeader(request.headers.get("cookie")), chosen.plan, chosen.interval);
    return Response.json({ url });
  } catch (error) {
    return errorResponse(error);
  }
}
