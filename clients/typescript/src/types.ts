// Names for the generated types a host uses most; every schema is also reachable as Schemas["Name"].
import type { components, operations } from "./generated/openapi.js";
import type { OperationId } from "./generated/operations.js";

export type Schemas = components["schemas"];

type Json<T> = T extends { content: { "application/json": infer Body } } ? Body : never;

/** The JSON body an operation takes. */
export type RequestBody<K extends OperationId> = Json<NonNullable<operations[K]["requestBody"]>>;
/** Its query parameters. */
export type Query<K extends OperationId> = NonNullable<operations[K]["parameters"]["query"]>;
/** What it answers when it succeeds (its 200 or 201). */
export type Answer<K extends OperationId> = operations[K]["responses"] extends infer R
  ? 200 extends keyof R
    ? Json<R[200]>
    : 201 extends keyof R
      ? Json<R[201]>
      : never
  : never;

export type CheckBody = Schemas["CheckBody"];
export type ConsumeBody = Schemas["ConsumeBody"];
export type Decision = Schemas["DecisionOut"];
export type Use = Schemas["UseOut"];
export type HoldBody = Schemas["HoldBody"];
export type Hold = Schemas["HoldOut"];
export type LedgerEntry = Schemas["EntryOut"];
export type StartCheckoutBody = Schemas["StartCheckout"];
export type CheckoutStarted = Schemas["CheckoutStarted"];
export type FulfilAnswer = Schemas["FulfilAnswer"];
export type Catalog = Schemas["CatalogOut"];
export type Plan = Schemas["PlanOut"];
export type PlanPrice = Schemas["PlanPriceOut"];
export type CustomerState = Schemas["CustomerStateOut"];
export type Balance = Schemas["BalanceOut"];
export type LinkRequest = Schemas["LinkRequest"];
export type LinkAnswer = Schemas["LinkAnswer"];
