"""The resources every run gets. Settings are read from the environment when a run builds them."""

from __future__ import annotations

from typing import Any

from assets.resources import (
    AlertResource,
    JtResource,
    OpenApiResource,
    ReconResource,
    WarehouseResource,
    WhaletResource,
)


def default_resources() -> dict[str, Any]:
    return {
        "openapi": OpenApiResource(),
        "jt": JtResource(),
        "whalet": WhaletResource(),
        "warehouse": WarehouseResource(),
        "recon": ReconResource(),
        "alerts": AlertResource(),
    }
