"""The partnership registry: regions, sectors and the 14 RSPs, read from a committed data file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rsp_data.ct import largest_town, town, town_names, towns

DATA_DIR = Path(__file__).resolve().parent / "data"
REGISTRY_FILE = DATA_DIR / "registry.toml"


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    also_called: str
    workforce_board: str
    town_names: tuple[str, ...]  # from rsp_data/data/ct_towns.csv, not typed into the registry
    counties: tuple[str, ...]  # the counties its towns lie in

    @property
    def towns(self) -> int:
        return len(self.town_names)


@dataclass(frozen=True)
class Sector:
    id: str
    name: str


@dataclass(frozen=True)
class Partnership:
    id: str
    name: str
    name_source: str
    sector: str
    region: str
    convener: str
    launched: str
    demo_start: str
    published_size: str
    gjc_supported: bool
    home_town: str = ""  # the convener's town, where one is published
    home: str = ""  # where the map places it: home_town, else the area's largest city (assumed)

    @property
    def home_assumed(self) -> bool:
        return not self.home_town


@dataclass(frozen=True)
class Grant:
    name: str
    funder: str
    amount_usd: int
    announced: str
    goal_placements: int
    goal_sectors: str
    supported_partnerships: int


@dataclass(frozen=True)
class Registry:
    grant: Grant
    regions: tuple[Region, ...]
    sectors: tuple[Sector, ...]
    partnerships: tuple[Partnership, ...]
    due_day: int = 15  # a month's figures are due on this day of the following month


def load_registry(path: Path = REGISTRY_FILE) -> Registry:
    """Parse and check the registry file; raises ValueError naming the first inconsistency."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    regions = tuple(
        Region(
            **r,
            town_names=town_names(r["id"]),
            counties=tuple(sorted({t.county for t in towns() if t.region_id == r["id"]})),
        )
        for r in raw["regions"]
    )
    sectors = tuple(Sector(**s) for s in raw["sectors"])
    partnerships = tuple(
        Partnership(**p, home=p.get("home_town") or largest_town(p["region"]).town) for p in raw["partnerships"]
    )
    region_ids = {r.id for r in regions}
    sector_ids = {s.id for s in sectors}
    seen: set[str] = set()
    for p in partnerships:
        if p.id in seen:
            raise ValueError(f"registry: partnership id {p.id!r} appears twice")
        seen.add(p.id)
        if p.region not in region_ids:
            raise ValueError(f"registry: {p.id} names unknown region {p.region!r}")
        if p.sector not in sector_ids:
            raise ValueError(f"registry: {p.id} names unknown sector {p.sector!r}")
        if town(p.home).region_id != p.region:
            raise ValueError(f"registry: {p.id}'s home town {p.home!r} is not in its region {p.region!r}")
    due_day = raw.get("reporting", {}).get("due_day", 15)
    if not (isinstance(due_day, int) and 1 <= due_day <= 28):
        raise ValueError(f"registry: reporting.due_day must be a day from 1 to 28, not {due_day!r}")
    return Registry(Grant(**raw["grant"]), regions, sectors, partnerships, due_day)


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The committed registry, parsed once per process."""
    return load_registry()
