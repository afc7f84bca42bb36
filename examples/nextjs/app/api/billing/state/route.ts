// For useCustomerState({ url: "/api/billing/state" }): the signed-in user's state, asked with the server's key.
import { customerState, errorResponse } from "../../../../lib/billing";
import { userFromCookieHeader } from "../../../../lib/session";

export async function GET(request: Request): Promise<Response> {
  try {
    return Response.json(await customerState(userFromCookieHeader(request.headers.get("cookie"))));
  } catch (error) {
    return errorResponse(error);
  }
}
