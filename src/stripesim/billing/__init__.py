"""The subscription / invoice engine, split along Stripe's own seams.

    context     Ctx: who is acting (a request or the clock), events, "now"
    periods     billing-period arithmetic (calendar months, anchors)
    objects     builders for subscription items, plans, invoice lines
    invoicing   invoices: create, finalize, totals, customer balance, void
    payment     payment intents and charges; paying an invoice
    dunning     what a paid / failed invoice does to its subscription
    proration   credit and debit invoice items on a price change
    lifecycle   subscriptions: start, renew, trial end, cancel, expire
    scheduler   what is due when, and running it in time order

Engine functions take a `Ctx` and mutate stored dicts; they never take the
lock themselves (callers hold `store.lock`).
"""
