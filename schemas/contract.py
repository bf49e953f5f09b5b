"""The base of every response model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Response models are immutable records; unknown fields are a bug, not data."""

    model_config = ConfigDict(extra="forbid", frozen=True)
