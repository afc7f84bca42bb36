"""Request and response bodies of the customers routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["CustomerOut", "EnsureCustomer"]


class EnsureCustomer(BaseModel):
    host_user_id: str = Field(min_length=1, max_length=255, examples=["user_42"])
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=255)
    stripe: bool = Field(default=True, description="also get-or-create the Stripe customer now")


class CustomerOut(BaseModel):
    host_user_id: str
    email: str | None
    name: str | None
    stripe_customer_id: str | None
