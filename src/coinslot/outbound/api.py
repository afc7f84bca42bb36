"""HTTP routes of outbound."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["outbound"])
