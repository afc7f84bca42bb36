"""HTTP routes of entitlements."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["entitlements"])
