"""A Stripe id is `<prefix>_<letters, digits, _>`: anything else is refused before it reaches a URL of
Stripe's API, at the edge and again in the gateway (issue 13: `%2E` made coinslot call Stripe's list
endpoint)."""

from __future__ import annotations

import pytest

from coinslot.config import Settings
from coinslot.errors import InvalidInput
from coinslot.stripe_gateway import StripeGateway
from coinslot.stripe_ids import checked_stripe_id, is_stripe_id
from tests.support.servers import free_port


@pytest.mark.parametrize("value", ["cs_test_a1B2c3", "cs_live_X", "cs_1", "cs_" + "a" * 252])
def test_real_shapes_are_ids(value: str) -> None:
    assert is_stripe_id(value, "cs")


@pytest.mark.parametrize("value", ["", ".", "..", "cs_", "cs", "cus_1", "cs_a.b", "cs_a/b", "cs_a\nb",
                                   "cs_a b", "cs_a%2E", "cs_é", "cs_a\x00", "cs_" + "a" * 253, "xcs_a"])
def test_anything_else_is_not(value: str) -> None:
    assert not is_stripe_id(value, "cs")


def test_a_charge_may_be_ch_or_py_and_the_error_names_the_field() -> None:
    assert checked_stripe_id("py_1", "ch", "py", field="charge_id") == "py_1"
    with pytest.raises(InvalidInput) as refused:
        checked_stripe_id("..", "ch", "py", field="charge_id")
    assert refused.value.field == "charge_id"
    assert "expected ch_... or py_..." in refused.value.message


@pytest.mark.parametrize("call", [
    lambda g: g.checkout.retrieve_session("."),
    lambda g: g.checkout.expire_session(".."),
    lambda g: g.customers.retrieve("cus_1\n"),
    lambda g: g.subscriptions.retrieve("sub_../x"),
    lambda g: g.invoices.retrieve("in_1?expand=x"),
    lambda g: g.charges.retrieve("re_1"),
    lambda g: g.catalog.retrieve_price("prod_1"),
    lambda g: g.test_clocks.frozen_time("clock_1#"),
])
def test_the_gateway_refuses_a_bad_id_before_any_call(call: object) -> None:
    # Nothing listens at this address: a call would be a 503, the refusal is a 422 made before it.
    settings = Settings(_env_file=None, stripe_secret_key="sk_test_x",  # type: ignore[call-arg]
                        stripe_api_base=f"http://127.0.0.1:{free_port()}", stripe_max_network_retries=0)
    gateway = StripeGateway.from_settings(settings)
    with pytest.raises(InvalidInput):
        call(gateway)  # type: ignore[operator]
