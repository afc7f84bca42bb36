"""Form decoding: what Stripe's SDKs and curl users send becomes nested params."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode

from stripesim.errors import ParameterInvalid, ParameterMissing
from stripesim.params import decode_form, get_bool, get_int, merge_metadata, reject_unknown, require


def test_nested_brackets_build_hashes() -> None:
    assert decode_form("a[b][c]=v&a[b][d]=w&x=1") == {"a": {"b": {"c": "v", "d": "w"}}, "x": "1"}


def test_empty_brackets_append() -> None:
    assert decode_form("expand[]=customer&expand[]=data.price") == {
        "expand": ["customer", "data.price"]}


def test_indexed_brackets_become_lists_in_index_order() -> None:
    body = "items[1][price]=p2&items[0][price]=p1&items[0][quantity]=3"
    assert decode_form(body) == {"items": [{"price": "p1", "quantity": "3"}, {"price": "p2"}]}


def test_rack_style_hash_list_starts_a_new_item_when_a_key_repeats() -> None:
    body = "items[][price]=p1&items[][quantity]=1&items[][price]=p2"
    assert decode_form(body) == {"items": [{"price": "p1", "quantity": "1"}, {"price": "p2"}]}


def test_percent_encoded_brackets_in_query_strings() -> None:
    assert decode_form("created%5Bgte%5D=5&lookup_keys%5B0%5D=pro") == {
        "created": {"gte": "5"}, "lookup_keys": ["pro"]}


def test_empty_values_are_kept_because_they_mean_unset() -> None:
    assert decode_form("metadata[plan]=&description=") == {"metadata": {"plan": ""},
                                                          "description": ""}


def test_digit_metadata_keys_stay_a_hash() -> None:
    assert decode_form("metadata[0]=a&metadata[1]=b") == {"metadata": {"0": "a", "1": "b"}}


def test_scalar_then_hash_for_the_same_key_is_refused() -> None:
    with pytest.raises(ParameterInvalid):
        decode_form("a=1&a[b]=2")


def test_plus_and_percent_escapes_decode() -> None:
    assert decode_form("name=Jane+Doe&email=a%2Bb%40x.io") == {"name": "Jane Doe",
                                                              "email": "a+b@x.io"}


def test_coercion_helpers_name_the_parameter() -> None:
    with pytest.raises(ParameterMissing) as missing:
        require({}, "currency")
    assert missing.value.param == "currency"
    with pytest.raises(ParameterInvalid) as bad_int:
        get_int({"limit": "ten"}, "limit")
    assert bad_int.value.param == "limit"
    with pytest.raises(ParameterInvalid) as too_big:
        get_int({"limit": "101"}, "limit", maximum=100)
    assert "less than or equal to 100" in too_big.value.message
    assert get_bool({"a": "true", "b": "false"}, "a") is True
    assert get_bool({"b": "false"}, "b") is False
    with pytest.raises(ParameterInvalid):
        get_bool({"a": "yes"}, "a")
    with pytest.raises(ParameterInvalid) as unknown:
        reject_unknown({"emial": "x"}, {"email"})
    assert unknown.value.message == "Received unknown parameter: emial"


def test_metadata_merges_unsets_and_clears() -> None:
    current = {"a": "1", "b": "2"}
    assert merge_metadata(current, {"b": "", "c": "3"}) == {"a": "1", "c": "3"}
    assert merge_metadata(current, "") == {}
    assert merge_metadata(current, None) == current


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="[]"),
                min_size=1, max_size=8)
# "metadata" children are never lists, so it is left out of generated keys.
_key = st.from_regex(r"[a-z][a-z_]{0,7}", fullmatch=True).filter(lambda k: k != "metadata")
_leaf = _text
_params = st.recursive(
    _leaf,
    lambda inner: st.one_of(st.dictionaries(_key, inner, min_size=1, max_size=3),
                            st.lists(inner, min_size=1, max_size=3)),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)  # no per-example deadline: CI machines are busy
@given(st.dictionaries(_key, _params, min_size=1, max_size=4))
def test_whatever_stripe_python_encodes_decodes_back(params: dict[str, Any]) -> None:
    encoded = urlencode(list(_api_encode(params)))
    assert decode_form(encoded) == params
