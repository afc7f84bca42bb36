"""Alerts: what an operator must look at (a dead event, a refund coinslot cannot map, a reconcile gap).
Recorded, counted and logged here; `outbound.service.raise_alert` also tells the host app."""
