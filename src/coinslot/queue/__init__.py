"""Queues of work kept in tables and shared by several workers through leases: the Stripe-event inbox
(`webhook_events`) and the outbox to the host (`outbox`), and any queue to come.

The life of a row, the same in every queue:

    ready (new, or failed and due)  ──claim──>  leased (locked_by, locked_until; a heartbeat renews it)
         ^                                         │ work outside any transaction, then in one transaction:
         │ replay (operator)                       ├── done        (the queue's own end state)
         │                                         ├── failed      next_attempt_at = now + backoff (capped)
         └──────────────── dead <──────────────────┴── dead        out of attempts, or unprocessable: alert

    kinds.py       what each queue's table and statuses are
    repository.py  every query: claim, the lease check, renew, release, lists and counts, backlog
    policy.py      backoff, and what a failure makes of a row (failed or dead)
    service.py     replay, and the reads operators and the admin console use
    runner.py      worker ids, the loop, the heartbeat, the thread inside `serve`
"""
