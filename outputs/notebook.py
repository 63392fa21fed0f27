"""The published warehouse as pandas DataFrames, for notebooks (docs/analyst-guide.md).

    from outputs.notebook import Snapshot
    snap = Snapshot("data/warehouse.duckdb")
    open_gaps = snap.breaks(check="chain_gap")
    snap.events(open_gaps.break_id[0])

The snapshot is opened read-only for each call, so a run publishing meanwhile is never in
the way and each call reads one whole run. Money columns hold `decimal.Decimal` values (read
through Arrow), never floats: sums and comparisons stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa


class Snapshot:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(
                f"no published warehouse at {self.path}: it is $RECON_DATA_DIR/warehouse.duckdb"
            )

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Any read-only query, as a DataFrame with exact decimals."""
        with duckdb.connect(str(self.path), read_only=True) as con:
            table: pa.Table = con.execute(sql, list(params or [])).to_arrow_table()
        # Arrow's decimal columns become Decimal objects; DuckDB's own .df() would give floats.
        frame: pd.DataFrame = table.to_pandas()
        return frame

    def breaks(
        self,
        statuses: Sequence[str] = ("open", "pending"),
        check: str | None = None,
        provider: str | None = None,
        currency: str | None = None,
    ) -> pd.DataFrame:
        """fct_breaks rows (by default the open and pending ones), newest opening first."""
        return self.query(
            "select * from fct_breaks where list_contains(?, status) "
            "and (?::varchar is null or check_name = ?) "
            "and (?::varchar is null or provider = ?) "
            "and (?::varchar is null or currency = ?) "
            "order by opened_at desc nulls last, break_id",
            [list(statuses), check, check, provider, provider, currency, currency],
        )

    def entries(
        self,
        provider: str | None = None,
        account_id: str | None = None,
        wallet_key: str | None = None,
        transaction_id: str | None = None,
    ) -> pd.DataFrame:
        """fct_ledger_entries rows, in booking order."""
        return self.query(
            "select * from fct_ledger_entries where (?::varchar is null or provider = ?) "
            "and (?::varchar is null or account_id = ?) "
            "and (?::varchar is null or wallet_key = ?) "
            "and (?::varchar is null or transaction_id = ?) "
            "order by provider, account_id, wallet_key, transaction_time, created_at, "
            "transaction_id, in_out_type",
            [provider, provider, account_id, account_id, wallet_key, wallet_key,
             transaction_id, transaction_id],
        )  # fmt: skip

    def events(self, break_id: str | None = None) -> pd.DataFrame:
        """fct_break_events rows (one break's, or all), oldest first: what runs saw and
        what analysts did (as of the last run)."""
        return self.query(
            "select * from fct_break_events where (?::varchar is null or break_id = ?) "
            "order by event_at, break_id",
            [break_id, break_id],
        )
