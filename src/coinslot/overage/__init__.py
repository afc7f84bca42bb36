"""Overage: uses beyond the balance, billed in arrears through a Stripe Meter (issue 17).

    core.py        pure: what overage costs (one rounding rule), the cap, the meter event's identifier
    repository.py  the reports table: one row per overage ledger entry, a queue (kind OVERAGE_REPORTS)
    service.py     an entry's report (in its transaction), a period's overage, verify against the ledger
    reporter.py    the worker: claim reports, send them as meter events, record the outcome

The ledger writes the `overage` entry (`ledger.service.spend`, admitted by entitlements); this package
carries it to Stripe, where the plan's metered price bills it on the renewal invoice.
"""
