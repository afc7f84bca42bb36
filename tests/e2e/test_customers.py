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


def test_a_stripe_customer_made_before_the_local_link_is_reused_by_email(stack: Stack) -> None:
    earlier = stack.stripe.v1.customers.create(params={"email": "dreamer@example.com", "name": "Dreamer"})
    answer = stack.api.post("/v1/customers", json={"host_user_id": "dream_1", "email": "dreamer@example.com"})
    assert answer.json()["stripe_customer_id"] == earlier.id
    assert stack.stripe.v1.customers.retrieve(earlier.id).metadata["coinslot_user_id"] == "dream_1"
    again = stack.api.post("/v1/customers", json={"host_user_id": "dream_1"})
    assert again.json()["stripe_customer_id"] == earlier.id


def test_an_email_claimed_by_another_host_user_is_not_reused(stack: Stack) -> None:
    first = stack.api.post(
        "/v1/customers", json={"host_user_id": "team_a", "email": "shared@example.com"}
    ).json()
    second = stack.api.post(
        "/v1/customers", json={"host_user_id": "team_b", "email": "shared@example.com"}
    ).json()
    assert first["stripe_customer_id"] != second["stripe_customer_id"]
