"""The mapping file of `coinslot import --from-stripe`: a bad line is refused with its file, line and field,
before anything is read from Stripe; and which host user a Stripe customer is."""

from __future__ import annotations

import pytest

from coinslot.errors import InvalidInput
from coinslot.imports.core import Link, host_user_for, parse_mapping


def refusal(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        parse_mapping(text, source="users.csv")
    return refused.value


def test_columns_are_found_by_name_and_blank_lines_are_skipped() -> None:
    text = ("stripe_customer_id,email,host_user_id\n"
            "cus_A1,a@example.com,user_1\n\n cus_B2 , b@example.com, user_2 \n")
    assert parse_mapping(text, source="users.csv") == {"cus_A1": "user_1", "cus_B2": "user_2"}


def test_a_bad_line_names_the_file_the_line_and_the_field() -> None:
    bad_id = refusal("host_user_id,stripe_customer_id\nuser_1,cus_A1\nuser_2,customer 2\n")
    assert (bad_id.field, bad_id.message.split(": ")[0]) == ("stripe_customer_id",
                                                             "users.csv, line 3, stripe_customer_id")
    no_user = refusal("host_user_id,stripe_customer_id\n,cus_A1\n")
    assert (no_user.field, no_user.message.split(": ")[0]) == ("host_user_id",
                                                               "users.csv, line 2, host_user_id")
    short = refusal("host_user_id,stripe_customer_id\nuser_1\n")
    assert short.message.startswith("users.csv, line 2, stripe_customer_id: ")
    header = refusal("user,customer\nuser_1,cus_A1\n")
    assert header.message.startswith("users.csv, line 1, host_user_id: ")


def test_a_customer_or_a_user_mapped_twice_is_refused_at_its_second_line() -> None:
    twice = refusal("host_user_id,stripe_customer_id\nuser_1,cus_A1\nuser_2,cus_A1\n")
    assert twice.message == "users.csv, line 3, stripe_customer_id: cus_A1 is already mapped to 'user_1'"
    shared = refusal("host_user_id,stripe_customer_id\nuser_1,cus_A1\n\nuser_1,cus_B2\n")
    assert shared.message.startswith("users.csv, line 4, host_user_id: 'user_1' is already mapped on line 2")


def test_the_mapping_file_comes_before_metadata_and_metadata_keys_in_order() -> None:
    keys = ("coinslot_user_id", "host_user_id")
    metadata = {"host_user_id": "from_metadata"}
    assert host_user_for("cus_A1", metadata, mapping={"cus_A1": "from_file"}, metadata_keys=keys) == Link(
        "from_file", "mapping")
    found = host_user_for("cus_A1", metadata, mapping={}, metadata_keys=keys)
    assert found == Link("from_metadata", "metadata")
    both = {"coinslot_user_id": "ours", "host_user_id": "theirs"}
    assert host_user_for("cus_A1", both, mapping={}, metadata_keys=keys) == Link("ours", "metadata")
    assert host_user_for("cus_A1", {"host_user_id": " "}, mapping={}, metadata_keys=keys) is None
