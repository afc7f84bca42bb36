"""Column types shared by the models."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer

__all__ = ["BigId"]

# 64-bit ids on PostgreSQL; plain INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")
