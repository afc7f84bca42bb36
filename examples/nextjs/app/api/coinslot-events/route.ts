// coinslot's outbound webhooks: point COINSLOT_HOST_WEBHOOK_URL at https://<your app>/api/coinslot-events.
import { receiveCoinslotWebhook } from "../../../lib/events";

export async function POST(request: Request): Promise<Response> {
  return receiveCoinslotWebhook(request);
}
