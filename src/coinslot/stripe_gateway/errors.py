"""Stripe's exceptions mapped to coinslot's, in one place.

Callers never see a `stripe.*Error`: transient failures (network, 5xx, 429,
409 lock contention) become StripeUnavailable, which the webhook worker
retries and the API answers with 503; a rejected request becomes
StripeRejected (or NotFound for a missing object); card errors keep Stripe's
code so the host can show it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from coinslot.errors import CoinslotError, InvalidInput, NotFound, StripeRejected, StripeUnavailable

__all__ = ["CardDeclined", "translate_stripe_errors"]


class CardDeclined(CoinslotError):
    """The card was declined; `code` carries Stripe's decline code."""

    code = "card_declined"
    http_status = 402


@contextmanager
def translate_stripe_errors(action: str) -> Iterator[None]:
    """Run a Stripe call; re-raise its failure as a coinslot error naming `action`."""
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise StripeUnavailable(
            f"{action}: Stripe is unreachable or busy ({exc.user_message or exc}); retry later"
        ) from exc
    except stripe.CardError as exc:
        raise CardDeclined(
            f"{action}: {exc.user_message or 'card declined'}", code=exc.code or "card_declined"
        ) from exc
    except stripe.AuthenticationError as exc:
        raise StripeRejected(
            f"{action}: Stripe refused the API key; check COINSLOT_STRIPE_SECRET_KEY"
        ) from exc
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            raise NotFound(f"{action}: {exc.user_message or exc}", code="stripe_resource_missing") from exc
        if exc.param:
            raise InvalidInput(f"{action}: {exc.user_message or exc}", field=exc.param) from exc
        raise StripeRejected(f"{action}: {exc.user_message or exc}") from exc
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        if status >= 500 or status in (409, 429) or status == 0:
            raise StripeUnavailable(f"{action}: Stripe answered {status or 'nothing'}; retry later") from exc
        raise StripeRejected(f"{action}: {exc.user_message or exc}") from exc
