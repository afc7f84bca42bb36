"""Request and response bodies of the customers routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["CustomerOut", "EnsureCustomer"]


class EnsureCustomer(BaseModel):
    """A host user to make sure coinslot (and, by default, Stripe) knows."""

    host_user_id: str = Field(min_length=1, max_length=255, examples=["user_42"],
                              description="your app's id for the user")
    email: str | None = Field(default=None, max_length=320, description="kept when first given")
    name: str | None = Field(default=None, max_length=255, description="kept when first given")
    stripe: bool = Field(default=True, description="also get-or-create the Stripe customer now")


class CustomerOut(BaseModel):
    """A host user's customer."""

    host_user_id: str = Field(description="your app's id for the user")
    email: str | None = Field(description="the email coinslot has for them")
    name: str | None = Field(description="the name coinslot has for them")
    stripe_customer_id: str | None = Field(description="their Stripe customer (cus_...), once they have one")
