"""HTTP routes of catalog."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["catalog"])
