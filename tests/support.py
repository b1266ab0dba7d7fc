"""Facts from the seed that several tests check, and small helpers for walking inputs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# The seed's application secrets (section 3.2, step 5), handed to the API in section 3.3.
SEED_APP_SECRETS = (
    "SECRET_KEY",
    "PIAPI_API_KEY",
    "POLLO_API_KEY",
    "A2E_API_KEY",
    "GEMINI_API_KEY",
    "PADDLE_API_KEY",
    "PADDLE_WEBHOOK_SECRET",
    "SENDGRID_API_KEY",
)


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in nested inputs or outputs."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings(item)
