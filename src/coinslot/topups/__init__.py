"""Auto top-up: a customer's saved card charged off-session for a credit pack when a spend or a hold
leaves their balance under the catalog's threshold, within a monthly cap.

    consume / hold / raw spend / capture beyond the hold (entitlements, under the ledger lock)
        ── service.on_balance_lowered: a pending top-up row,
        one per trigger, at most one open per customer ── commit
    worker (flows.charge_due) ── claim (lease) ── Stripe: off-session PaymentIntent, idempotency key from
        the row ── service.record_charge: succeeded -> credits granted (entry `auto_topup:<pi_...>`), or
        declined / authentication required -> turned off, notice, outbound `auto_topup.failed`
    webhook payment_intent.succeeded|payment_failed ── the same service functions (whichever is first)
    webhook charge.refunded of a top-up's charge ── charges.record_refunds: its credits taken back
"""
