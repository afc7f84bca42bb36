import type { components } from "./generated/openapi.js";

/** The body of every non-2xx answer: `{"error": {"code", "message", "field"?}}`. */
export type ErrorBody = components["schemas"]["ErrorBody"];

/**
 * coinslot answered with an error (its envelope's `code`, `message` and `field`, and the HTTP `status`),
 * or could not be reached (`status` 0, `code` "unreachable"). The same error as the Python clients'.
 *
 *     402 insufficient_credits  the user's balance is too small (`needed`, `available` say by how much)
 *     401 unauthorized          the API key is missing, unknown or revoked
 *     422 invalid_input         `field` names the value to fix
 *     503 ...                   retry later (`retryAfterS`): the client already retried
 */
export class CoinslotError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;
  /** Seconds coinslot asked the caller to wait (`Retry-After`), when it did. */
  readonly retryAfterS: number | null;
  /** The whole error object of the answer (with `needed` and `available` on insufficient_credits). */
  readonly body: ErrorBody | null;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { field?: string | null; retryAfterS?: number | null; body?: ErrorBody | null; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CoinslotError";
    this.status = status;
    this.code = code;
    this.field = options.field ?? null;
    this.retryAfterS = options.retryAfterS ?? null;
    this.body = options.body ?? null;
  }

  /** From a non-2xx answer: its envelope when it has one, else the start of its text. */
  static async fromResponse(response: Response): Promise<CoinslotError> {
    const text = await response.text();
    let error: Partial<ErrorBody> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object" && "error" in parsed && parsed.error && typeof parsed.error === "object") {
        error = parsed.error as Partial<ErrorBody>;
      }
    } catch {
      // not JSON (a proxy's error page): the text is the message
    }
    const retryAfter = response.headers.get("retry-after") ?? "";
    return new CoinslotError(
      response.status,
      typeof error.code === "string" ? error.code : "error",
      typeof error.message === "string" ? error.message : text.slice(0, 200),
      {
        field: typeof error.field === "string" ? error.field : null,
        retryAfterS: /^\d+$/.test(retryAfter) ? Number(retryAfter) : null,
        body: typeof error.code === "string" ? (error as ErrorBody) : null,
      },
    );
  }
}
