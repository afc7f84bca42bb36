// For useCheck({ url: "/api/billing/check", feature }): may the signed-in user use a feature? Nothing is spent.
import { checkFeature, errorResponse } from "../../../../lib/billing";
import { userFromCookieHeader } from "../../../../lib/session";

export async function POST(request: Request): Promise<Response> {
  const asked = (await request.json().catch(() => ({}))) as { feature?: unknown; quantity?: unknown; params?: unknown };
  if (typeof asked.feature !== "string") {
    return Response.json({ error: { code: "invalid_input", message: "send {feature}", field: "feature" } }, { status: 422 });
  }
  const quantity = typeof asked.quantity === "number" ? asked.quantity : 1;
  const params = (asked.params ?? {}) as Record<string, string>;
  try {
    return Response.json(await checkFeature(userFromCookieHeader(request.headers.get("cookie")), asked.feature, quantity, params));
  } catch (error) {
    return errorResponse(error);
  }
}
