"""The price file (vidgo_infra/prices.yaml): SKUs by region, each with its unit, source and date."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PRICES_FILE = Path(__file__).resolve().parent.parent / "prices.yaml"
GLOBAL = "global"


class Unpriced(LookupError):
    """No price for a SKU in a region: the line is reported as unpriced, never as $0."""

    def __init__(self, sku: str, region: str):
        self.sku, self.region = sku, region
        super().__init__(f"no price for {sku} in {region} in vidgo_infra/prices.yaml")


@dataclass(frozen=True)
class Price:
    sku: str
    region: str
    usd: float  # for `per` units
    per: float
    unit: str
    free_per_month: float
    free_scope: str  # "billing_account" (shared by every project on it) or "project"
    source: str
    checked: str
    confidence: str

    def cost(self, billable: float) -> float:
        return billable / self.per * self.usd

    def label(self) -> str:
        per = f"{self.per:,.0f} " if self.per != 1 else ""
        return f"${self.usd:g} / {per}{self.unit}"


class Prices:
    """Lookups in a parsed price file. A regional price wins over a global one."""

    def __init__(self, document: dict[str, Any]):
        self.meta: dict[str, Any] = document.get("meta") or {}
        self.entries: dict[str, dict[str, Any]] = document.get("prices") or {}
        self.free_types: list[dict[str, str]] = document.get("free") or []

    @property
    def hours_per_month(self) -> float:
        return float(self.meta.get("hours_per_month", 730))

    @property
    def seconds_per_month(self) -> float:
        return self.hours_per_month * 3600

    @property
    def checked(self) -> str:
        return str(self.meta.get("checked", "unknown"))

    @property
    def default_region(self) -> str:
        return str(self.meta.get("default_region", GLOBAL))

    def get(self, sku: str, region: str) -> Price:
        entry = self.entries.get(sku)
        if entry is None:
            raise Unpriced(sku, region)
        by_region = entry.get("usd") or {}
        where = region if region in by_region else GLOBAL
        if by_region.get(where) is None:
            raise Unpriced(sku, region)
        return Price(
            sku=sku,
            region=where,
            usd=float(by_region[where]),
            per=float(entry.get("per", 1)),
            unit=str(entry.get("unit", "unit")),
            free_per_month=float(entry.get("free_per_month") or 0),
            free_scope=str(entry.get("free_scope", "billing_account")),
            source=str(entry.get("source", "")),
            checked=str(entry.get("checked", "")),
            confidence=str(entry.get("confidence", "")),
        )

    def free_reason(self, type_token: str) -> str | None:
        """Why a resource type is not billed itself, or None when it is not listed as free."""
        for rule in self.free_types:
            if fnmatch.fnmatchcase(type_token, rule["type"]):
                return rule["reason"]
        return None


def load_prices(path: Path = PRICES_FILE) -> Prices:
    return Prices(yaml.safe_load(path.read_text()))
