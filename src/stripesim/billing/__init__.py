"""The engine: the rules that API handlers, hosted pages and the clock share, split along
Stripe's own seams. Below `resources`, `hosted` and `clock`, which call it; it imports none of
them (from `routing` only the `Call` a `Ctx` may carry, and the Router of dunning's one
control route, `/_sim/billing/settings`). Top to bottom (a module imports only ones below it):

    checkout         Checkout Sessions: complete, expire
    preview          invoice previews, computed without storing anything
    scheduler        what is due when, and running it in time order
    proration        credit and debit invoice items on a price change
    lifecycle        subscriptions: start, renew, trial end, pause/resume
    payment          payment intents and charges; paying an invoice
    credit_notes     lowering a finalized invoice, refunding or crediting
    dunning          what a paid / failed invoice does to its subscription
    subscription_end cancel now, expire while incomplete (lifecycle and dunning both end one)
    post_payment     post-payment invoices of a payment-mode Checkout Session
    invoicing        invoices: create, finalize, totals, void
    customers        the customer object: live lookup, create, the fields create/update share
    setup            SetupIntents: saving a card
    checkout_discounts  a session's discounts and promotion code
    discounts        coupons and promotion codes becoming discounts
    payment_methods  payment methods: test-card aliases made real, found, attached
    refunds          refunding a charge (/v1/refunds and credit notes)
    balance          the customer's balance ledger
    subscription_shape  the subscription object as this API version shapes it
    context          Ctx: who is acting (a request or the clock), events, "now"
    account_balance, charges, discount_math, metering, objects, periods
                     small pieces with no engine imports

Engine functions take a `Ctx` and mutate stored dicts; they never take the
lock themselves (callers hold `store.lock`). Where a lower module must reach a
higher one it calls a hook the higher one registers at import time
(`payment.SUCCESS_HOOKS`, `setup.SETUP_HOOKS`, `scheduler.EXTRA_SOURCES`).
"""
