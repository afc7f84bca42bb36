"""A host verifies coinslot's webhooks (Standard Webhooks): genuine and fresh pass, the rest is refused."""

from __future__ import annotations

import pytest

from coinslot.hostwebhooks import (
    HostWebhookInvalid,
    generate_secret,
    secret_key,
    sign,
    sign_headers,
    verify_host_webhook,
)

# The example of the Standard Webhooks specification, so coinslot interoperates with its libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def spec_headers(**overrides: str) -> dict[str, str]:
    headers = {"webhook-id": SPEC_ID, "webhook-timestamp": str(SPEC_TS), "webhook-signature": SPEC_SIGNATURE}
    headers.update(overrides)
    return headers


def test_the_signature_matches_the_specification_example() -> None:
    signature = sign(secret=SPEC_SECRET, webhook_id=SPEC_ID, timestamp_s=SPEC_TS, body=SPEC_BODY)
    assert signature == SPEC_SIGNATURE


def test_a_genuine_fresh_delivery_passes_whatever_the_header_case() -> None:
    headers = {name.upper(): value for name, value in spec_headers().items()}
    event = verify_host_webhook(headers, SPEC_BODY, SPEC_SECRET, now_s=SPEC_TS + 10)
    assert event == {"test": 2432232314}


@pytest.mark.parametrize(
    ("headers", "body", "secret", "now_s"),
    [
        pytest.param(spec_headers(), b'{"test": 2432232315}', SPEC_SECRET, SPEC_TS, id="tampered body"),
        pytest.param(spec_headers(), SPEC_BODY, generate_secret(), SPEC_TS, id="other secret"),
        pytest.param(spec_headers(), SPEC_BODY, SPEC_SECRET, SPEC_TS + 301, id="stale"),
        pytest.param(spec_headers(), SPEC_BODY, SPEC_SECRET, SPEC_TS - 301, id="from the future"),
        pytest.param(spec_headers(**{"webhook-id": "msg_other"}), SPEC_BODY, SPEC_SECRET, SPEC_TS,
                     id="id swapped"),
        pytest.param(spec_headers(**{"webhook-timestamp": str(SPEC_TS + 1)}), SPEC_BODY, SPEC_SECRET,
                     SPEC_TS, id="timestamp moved"),
        pytest.param(spec_headers(**{"webhook-timestamp": "soon"}), SPEC_BODY, SPEC_SECRET, SPEC_TS,
                     id="timestamp not a number"),
        pytest.param(spec_headers(**{"webhook-signature": ""}), SPEC_BODY, SPEC_SECRET, SPEC_TS,
                     id="unsigned"),
        pytest.param(spec_headers(**{"webhook-signature": "v1,ünïcode"}), SPEC_BODY, SPEC_SECRET,
                     SPEC_TS, id="garbage signature"),
    ],
)
def test_forged_stale_or_unsigned_deliveries_are_refused(
    headers: dict[str, str], body: bytes, secret: str, now_s: float
) -> None:
    with pytest.raises(HostWebhookInvalid):
        verify_host_webhook(headers, body, secret, now_s=now_s)


def test_during_a_secret_rotation_any_one_matching_signature_passes() -> None:
    new_secret = generate_secret()
    headers = sign_headers(secret=new_secret, webhook_id=SPEC_ID, timestamp_s=SPEC_TS, body=SPEC_BODY)
    headers["webhook-signature"] = f"{SPEC_SIGNATURE} {headers['webhook-signature']}"
    assert verify_host_webhook(headers, SPEC_BODY, new_secret, now_s=SPEC_TS)
    assert verify_host_webhook(headers, SPEC_BODY, SPEC_SECRET, now_s=SPEC_TS)


def test_a_body_that_is_not_json_is_refused_even_when_signed() -> None:
    headers = sign_headers(secret=SPEC_SECRET, webhook_id=SPEC_ID, timestamp_s=SPEC_TS, body=b"not json")
    with pytest.raises(HostWebhookInvalid, match="not JSON"):
        verify_host_webhook(headers, "not json", SPEC_SECRET, now_s=SPEC_TS)


def test_secrets_are_whsec_base64_and_a_malformed_one_is_named() -> None:
    assert len(secret_key(generate_secret())) == 32
    assert secret_key("whsec_AAAA") == secret_key("AAAA")  # the prefix is optional, as in the spec's SDKs
    for bad in ("whsec_not base64!", "whsec_", ""):
        with pytest.raises(ValueError, match="secret"):
            secret_key(bad)
