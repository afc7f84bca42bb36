#!/usr/bin/env bash
# coinslot's REST API with curl, step by step: the commands docs/rest.md shows, run as they are by
# tests/examples/test_rest_walkthrough.py against a real coinslot + stripesim.
#   COINSLOT   coinslot's URL            KEY        an API key (coinslot keys create web)
#   APP        your app's origin (one of COINSLOT_ALLOWED_REDIRECT_ORIGINS)
#   STRIPESIM  stripesim's URL, to pay as a user would on Stripe's page
# Each step prints "== <step>", the answer's body, then its HTTP status on a line of its own.
set -euo pipefail
: "${COINSLOT:?}" "${KEY:?}" "${APP:?}" "${STRIPESIM:?}"

ANSWER=$(mktemp)
trap 'rm -f "$ANSWER"' EXIT
# The commands below are plain curl; this wrapper keeps each answer (to read ids from) and prints its status.
curl() { command curl -sS -w '\n%{http_code}' "$@" | tee "$ANSWER"; echo; }
field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$ANSWER" | head -1; }

echo "== plans"
# snippet:plans
curl "$COINSLOT/v1/plans"
# snippet:end

echo "== state-new-user"
# snippet:state-new-user
curl "$COINSLOT/v1/customers/user_42/state" -H "Authorization: Bearer $KEY"
# snippet:end

echo "== check-free-plan"
# snippet:check
curl -X POST "$COINSLOT/v1/check" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "feature": "export"}'
# snippet:end

echo "== checkout"
# snippet:checkout
curl -X POST "$COINSLOT/v1/checkout/sessions" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "plan": "core", "interval": "month",
          "success_url": "'"$APP"'/billing", "cancel_url": "'"$APP"'/pricing"}'
# snippet:end
SESSION=$(field session_id)

echo "== pay"  # the user pays on Stripe's page; stripesim's control route does it here
command curl -sS -X POST "$STRIPESIM/_sim/checkout/sessions/$SESSION/complete" \
     -H "Content-Type: application/json" -d '{"payment_method": "pm_card_visa"}' >/dev/null
echo "{}"; echo 200

echo "== fulfil"
# snippet:fulfil
curl -X POST "$COINSLOT/v1/checkout/sessions/$SESSION/fulfil?host_user_id=user_42" -H "Authorization: Bearer $KEY"
# snippet:end

echo "== check-subscribed"
curl -X POST "$COINSLOT/v1/check" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "feature": "export"}'

echo "== consume"
# snippet:consume
curl -X POST "$COINSLOT/v1/consume" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "feature": "export", "idempotency_key": "export-7f3a"}'
# snippet:end

echo "== consume-retried"
curl -X POST "$COINSLOT/v1/consume" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "feature": "export", "idempotency_key": "export-7f3a"}'

echo "== consume-refused"
# snippet:consume-refused
curl -X POST "$COINSLOT/v1/consume" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "feature": "export", "quantity": 10, "idempotency_key": "export-8b1c"}'
# snippet:end

echo "== hold"
# snippet:hold
curl -X POST "$COINSLOT/v1/holds" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "feature": "export", "credits": 5, "idempotency_key": "render-19",
          "timeout_s": 900}'
# snippet:end
HOLD=$(field hold_id)

echo "== capture"
# snippet:capture
curl -X POST "$COINSLOT/v1/holds/$HOLD/capture" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"credits": 4}'
# snippet:end

echo "== hold-again"
curl -X POST "$COINSLOT/v1/holds" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "feature": "export", "idempotency_key": "render-20"}'
HOLD=$(field hold_id)

echo "== release"
# snippet:release
curl -X POST "$COINSLOT/v1/holds/$HOLD/release" -H "Authorization: Bearer $KEY"
# snippet:end

echo "== link"
# snippet:link
curl -X POST "$COINSLOT/v1/links" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "page": "billing", "return_url": "'"$APP"'/settings"}'
# snippet:end

echo "== state"
# snippet:state
curl "$COINSLOT/v1/customers/user_42/state" -H "Authorization: Bearer $KEY"
# snippet:end

echo "== events"
# snippet:events
curl "$COINSLOT/v1/events?status=processed&limit=2" -H "Authorization: Bearer $KEY"
# snippet:end

echo "== invalid"
# snippet:invalid
curl -X POST "$COINSLOT/v1/check" -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
     -d '{"host_user_id": "user_42", "feature": "export", "quantity": 0}'
# snippet:end

echo "== unauthorized"
curl "$COINSLOT/v1/credits/user_42" -H "Authorization: Bearer cs_revoked_or_wrong"
