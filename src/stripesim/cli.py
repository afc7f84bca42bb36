"""`stripesim serve`: run the emulator with uvicorn.

    stripesim serve --port 12111 [--host 127.0.0.1] [--state-file state.json]
                    [--webhook-url URL --webhook-secret whsec_...]
                    [--retry-base-delay-s 1.0] [--max-delivery-attempts 4]
                    [--api-version 2026-10-28.endive]

STRIPESIM_WEBHOOK_URL / STRIPESIM_WEBHOOK_SECRET stand in for the webhook flags,
STRIPESIM_API_VERSION for --api-version.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stripesim",
                                     description="A stateful emulator of Stripe's API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--port", type=int, default=12111)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--state-file", default=None,
                       help="JSON file that keeps the state across restarts")
    serve.add_argument("--webhook-url", default=os.environ.get("STRIPESIM_WEBHOOK_URL"),
                       help="deliver every event here (env STRIPESIM_WEBHOOK_URL)")
    serve.add_argument("--webhook-secret", default=os.environ.get("STRIPESIM_WEBHOOK_SECRET"),
                       help="whsec_... signing secret (env STRIPESIM_WEBHOOK_SECRET)")
    serve.add_argument("--retry-base-delay-s", type=float, default=1.0,
                       help="first webhook retry delay; doubles each attempt")
    serve.add_argument("--max-delivery-attempts", type=int, default=4)
    serve.add_argument("--api-version", default=os.environ.get("STRIPESIM_API_VERSION"),
                       help="the account's default API version, for requests without "
                            "Stripe-Version and endpoints without one (env STRIPESIM_API_VERSION; "
                            "default 2026-10-28.endive)")
    serve.add_argument("--log-level", default="info")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.webhook_secret and not args.webhook_secret.startswith("whsec_"):
        print("stripesim: --webhook-secret must start with whsec_", file=sys.stderr)
        return 2
    if args.webhook_secret and not args.webhook_url:
        print("stripesim: --webhook-secret needs --webhook-url", file=sys.stderr)
        return 2
    import uvicorn

    from .app import create_app
    from .versions import SUPPORTED

    if args.api_version and args.api_version not in SUPPORTED:
        print(f"stripesim: --api-version must be one of {', '.join(SUPPORTED)}", file=sys.stderr)
        return 2
    app = create_app(state_file=args.state_file, webhook_url=args.webhook_url,
                     webhook_secret=args.webhook_secret,
                     retry_base_delay_s=args.retry_base_delay_s,
                     max_delivery_attempts=args.max_delivery_attempts,
                     api_version=args.api_version)
    if args.webhook_url:
        endpoint = next(e for e in app.state.sim.store.all("webhook_endpoint")
                        if e["url"] == args.webhook_url)
        print(f"stripesim: delivering events to {args.webhook_url} "
              f"(secret {endpoint['_secret']})", flush=True)
    print(f"stripesim: listening on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
