"""Shared test helpers: real servers on loopback, a real PostgreSQL, fresh databases."""
