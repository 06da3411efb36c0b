"""The two kinds of API schema every feature declares: what a client sends in, and what it gets back."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputSchema(BaseModel):
    """A request body: an unknown field is refused (422, so a typo is not silently ignored); text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputSchema(BaseModel):
    """A response built from a table row (`Schema.model_validate(row)`)."""

    model_config = ConfigDict(from_attributes=True)
