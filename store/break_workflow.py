"""The analysts' workflow, copied into the warehouse after the breaks are folded.

A run reads the workflow store (read-only) and, after `store.breaks.reconcile`, writes each
break's current workflow state into `fct_breaks` (`owner`, `workflow_status`, `reason_code`,
`note`) and the actions into `fct_break_events` (actor = the person), so the published
snapshot carries them. Both are rewritten from the store every run: the store is the truth,
the warehouse a copy. Kept apart from the break lifecycle (fct_breaks.sql), which knows
nothing of people.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from store.breaks import BREAK_EVENTS, BREAKS, WORKFLOW_COLUMNS
from store.workflow import ACTIONS, NEW, Action, current, fold

COLUMNS = WORKFLOW_COLUMNS


def _event_detail(a: Action) -> str:
    said = {
        "acknowledged": f"Acknowledged by {a.actor}",
        "assigned": f"Assigned to {a.owner} by {a.actor}"
        if a.owner
        else f"Unassigned by {a.actor}",
        "commented": f"Comment by {a.actor}",
        "explained": f"Explained by {a.actor} as {a.reason_code}",
        "unexplained": f"Explanation withdrawn by {a.actor}",
    }[a.action]
    return f"{said}: {a.note}" if a.note else f"{said}."


def apply_workflow(con: duckdb.DuckDBPyConnection, actions: Sequence[Action]) -> int:
    """Write the workflow state of every break and the actions as events, in one transaction.
    Returns how many breaks have a workflow state other than plain `new`."""
    states = fold(actions)
    con.begin()
    try:
        for column in COLUMNS:
            con.execute(f"alter table {BREAKS} add column if not exists {column} varchar")
        rows = con.execute(
            f"select break_id, expected, actual, difference from {BREAKS}"
        ).fetchall()
        touched = []
        for break_id, expected, actual, difference in rows:
            state = states.get(break_id)
            if state is None:
                continue
            now = current(state, (expected, actual, difference))
            touched.append((break_id, now.owner, now.workflow_status, now.reason_code, now.note))
        con.execute(
            "create or replace temp table break_workflow (break_id varchar primary key, "
            "owner varchar, workflow_status varchar, reason_code varchar, note varchar)"
        )
        if touched:
            con.executemany("insert into break_workflow values (?, ?, ?, ?, ?)", touched)
        con.execute(
            f"update {BREAKS} set owner = null, workflow_status = ?, reason_code = null, "
            "note = null",
            [NEW],
        )
        con.execute(
            f"update {BREAKS} set owner = w.owner, workflow_status = w.workflow_status, "
            "reason_code = w.reason_code, note = w.note from break_workflow w "
            f"where {BREAKS}.break_id = w.break_id"
        )
        con.execute("drop table break_workflow")
        con.execute(f"delete from {BREAK_EVENTS} where list_contains(?, event)", [list(ACTIONS)])
        if actions:
            _insert_events(con, actions)
        con.commit()
    except Exception:
        con.rollback()
        raise
    return sum(1 for t in touched if t[1:] != (None, NEW, None, None))


def _insert_events(con: duckdb.DuckDBPyConnection, actions: Sequence[Action]) -> None:
    con.executemany(
        f"insert into {BREAK_EVENTS} by name select ? as break_id, ? as event_at, "
        "? as event, ? as status, ?::decimal(38, 8) as expected, "
        "?::decimal(38, 8) as actual, ?::decimal(38, 8) as difference, ? as detail, "
        "? as actor",
        [
            (
                a.break_id,
                a.at,
                a.action,
                a.status,
                a.expected,
                a.actual,
                a.difference,
                _event_detail(a),
                a.actor,
            )
            for a in actions
        ],
    )
