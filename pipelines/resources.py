"""The resources every run gets. Settings are read from the environment when a run builds
them, unless a run's config sets a field (see pipelines.runs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from assets.resources import (
    AlertResource,
    JtResource,
    OpenApiResource,
    ReconResource,
    WarehouseResource,
    WhaletResource,
)

# Resource key -> the fields one run sets instead of the environment.
RunConfig = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Resources:
    """One run's resources, by the keys the assets ask for."""

    openapi: OpenApiResource
    jt: JtResource
    whalet: WhaletResource
    warehouse: WarehouseResource
    recon: ReconResource
    alerts: AlertResource

    @classmethod
    def build(cls, config: RunConfig | None = None) -> Resources:
        """The resources as a run with this config builds them."""
        config = config or {}
        unknown = set(config) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"no resource named {', '.join(sorted(unknown))}")
        return cls(
            openapi=OpenApiResource(**config.get("openapi", {})),
            jt=JtResource(**config.get("jt", {})),
            whalet=WhaletResource(**config.get("whalet", {})),
            warehouse=WarehouseResource(**config.get("warehouse", {})),
            recon=ReconResource(**config.get("recon", {})),
            alerts=AlertResource(**config.get("alerts", {})),
        )

    def providers(self) -> tuple[OpenApiResource, JtResource, WhaletResource]:
        return self.openapi, self.jt, self.whalet

    def by_key(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def default_resources() -> dict[str, Any]:
    return Resources.build().by_key()
