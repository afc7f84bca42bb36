/**
 * @coinslot/client: coinslot's REST API from JavaScript and TypeScript.
 *
 *     import { CoinslotClient, CoinslotError, verifyWebhook } from "@coinslot/client";
 *
 * React hooks: `@coinslot/client/react`. The pricing table element: `@coinslot/client/pricing-table`.
 */
export { CoinslotClient, type CallOptions, type CoinslotClientOptions } from "./client.js";
export { CoinslotError, type ErrorBody } from "./errors.js";
export type { components, operations, paths } from "./generated/openapi.js";
export { OPERATIONS, type OperationId } from "./generated/operations.js";
export type * from "./types.js";
export {
  verifyWebhook,
  verifyWebhookRequest,
  WebhookInvalid,
  type CoinslotEvent,
  type EventSubscription,
  type WebhookHeaders,
} from "./webhooks.js";
