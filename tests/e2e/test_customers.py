"""Host user -> exactly one Stripe customer, however many requests race for it."""

from __future__ import annotations

import threading

import httpx

from tests.support.stack import Stack


def test_sixteen_parallel_first_requests_make_exactly_one_stripe_customer(stack: Stack) -> None:
    barrier = threading.Barrier(16)
    answers: list[httpx.Response] = []

    def first_visit() -> None:
        with httpx.Client(
            base_url=stack.url, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=60
        ) as client:
            barrier.wait()
            answers.append(
                client.post("/v1/customers", json={"host_user_id": "patch_7", "email": "modular@example.com"})
            )

    threads = [threading.Thread(target=first_visit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [answer.status_code for answer in answers] == [200] * 16, [
        a.text for a in answers if a.status_code != 200
    ]
    linked = {answer.json()["stripe_customer_id"] for answer in answers}
    assert len(linked) == 1
    at_stripe = stack.stripe.v1.customers.list(params={"email": "modular@example.com", "limit": 100}).data
    assert [customer.id for customer in at_stripe] == list(linked)
    assert at_stripe[0].metadata["coinslot_user_id"] == "patch_7"


def test_a_stripe_customer_with_the_same_email_is_not_reused_unless_the_operator_opts_in(
    stack: Stack,
) -> None:
    # Someone signs up to the host app with another person's email: they must not get that
    # person's Stripe customer (saved cards, invoices).
    theirs = stack.stripe.v1.customers.create(params={"email": "victim@example.com", "name": "Victim"})
    answer = stack.api.post("/v1/customers", json={"host_user_id": "intruder", "email": "victim@example.com"})
    assert answer.status_code == 200
    assert answer.json()["stripe_customer_id"] != theirs.id
    assert "coinslot_user_id" not in stack.stripe.v1.customers.retrieve(theirs.id).metadata


def test_a_stripe_customer_coinslot_made_before_the_local_link_is_reused_by_its_metadata(
    stack: Stack,
) -> None:
    # The link was lost (a restored backup): the customer coinslot made carries the user id.
    earlier = stack.stripe.v1.customers.create(
        params={"email": "back@example.com", "metadata": {"coinslot_user_id": "restored_1"}}
    )
    answer = stack.api.post("/v1/customers", json={"host_user_id": "restored_1", "email": "back@example.com"})
    assert answer.json()["stripe_customer_id"] == earlier.id


def test_with_the_opt_in_a_stripe_customer_made_before_coinslot_is_reused_by_email(database_url: str) -> None:
    stack = Stack.start(database_url, reuse_stripe_customers_by_email=True)
    try:
        earlier = stack.stripe.v1.customers.create(params={"email": "dreamer@example.com", "name": "Dreamer"})
        answer = stack.api.post("/v1/customers", json={"host_user_id": "dream_1",
                                                       "email": "dreamer@example.com"})
        assert answer.json()["stripe_customer_id"] == earlier.id
        assert stack.stripe.v1.customers.retrieve(earlier.id).metadata["coinslot_user_id"] == "dream_1"
        again = stack.api.post("/v1/customers", json={"host_user_id": "dream_1"})
        assert again.json()["stripe_customer_id"] == earlier.id
        # Still never one that another host user claims: an email can be shared by two accounts of the host.
        shared = stack.api.post("/v1/customers", json={"host_user_id": "dream_2",
                                                       "email": "dreamer@example.com"})
        assert shared.json()["stripe_customer_id"] != earlier.id
    finally:
        stack.stop()


def test_an_email_claimed_by_another_host_user_is_not_reused(stack: Stack) -> None:
    first = stack.api.post(
        "/v1/customers", json={"host_user_id": "team_a", "email": "shared@example.com"}
    ).json()
    second = stack.api.post(
        "/v1/customers", json={"host_user_id": "team_b", "email": "shared@example.com"}
    ).json()
    assert first["stripe_customer_id"] != second["stripe_customer_id"]
