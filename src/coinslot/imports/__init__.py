"""Adopting an existing Stripe account (`coinslot import --from-stripe`): its customers linked to host
users, its subscriptions mirrored, the current periods' credits granted once. `core.py` holds the
rules (the mapping file, the link, the report), `flows.py` the reads from Stripe and the writes, one
transaction per customer, through the customers, subscriptions and ledger services."""
