"""Who opened what, kept in the database so every process agrees: signed links used once
(`links`), the operator's sessions and login throttle (`admin_sessions`), and the audit trail of
every operator action (`audit`). The pages in `coinslot.web` decide; this package remembers.

    links.py            a billing link's nonce, refused the second time
    admin_sessions.py   sessions (the cookie's token, hashed), the atomic login throttle
    audit.py            append-only record of operator actions
    repository.py       the statements behind all three
"""
