"""Landing layer: provider windows and snapshots fetched whole, checked and written as Parquet.

One module per provider (openapi, jt, whalet) over the shared writing in `common`.
"""

from assets.landing.common import report
from assets.landing.jt import jt_landing_assets
from assets.landing.openapi import openapi_landing_assets
from assets.landing.whalet import whalet_landing_assets

landing_assets = [*openapi_landing_assets, *jt_landing_assets, *whalet_landing_assets]

__all__ = ["landing_assets", "report"]
