"""Landing assets: provider windows and snapshots fetched whole, checked and written as Parquet.

One module per provider (openapi, jt, whalet); what they fetch and write is `store.landing`.
"""

import dagster as dg

from assets.landing.jt import jt_landing_assets
from assets.landing.openapi import openapi_landing_assets
from assets.landing.whalet import whalet_landing_assets

landing_assets: list[dg.AssetsDefinition] = [
    *openapi_landing_assets,
    *jt_landing_assets,
    *whalet_landing_assets,
]
