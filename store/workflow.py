"""What analysts did with each break (reconciliation.md §3, workflow): the actions, and the
state they add up to. Pure functions; the store that keeps the actions is
`store.workflow_store`, the step that copies the state into the warehouse
`store.break_workflow`.

An action is kept as it was taken, never changed: who, when, a note, and the break's numbers
(expected, actual, difference) as the analyst saw them. The state of a break is the fold of
its actions in order. An explanation holds while the break's numbers are the ones it was
given for; when a run finds other numbers, the break is `new` again (and alerted again).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

ACKNOWLEDGED, ASSIGNED, COMMENTED, EXPLAINED, UNEXPLAINED = (
    "acknowledged",
    "assigned",
    "commented",
    "explained",
    "unexplained",
)
ACTIONS = (ACKNOWLEDGED, ASSIGNED, COMMENTED, EXPLAINED, UNEXPLAINED)
NEW = "new"
WORKFLOW_STATUSES = (NEW, ACKNOWLEDGED, EXPLAINED)
DEFAULT_REASON_CODES = ("timing", "provider_error_reported", "fee_rounding", "known_adjustment")
# fct_break_events says `run` for what a pipeline run saw; no person may take that name.
RUN_ACTOR = "run"
MAX_NOTE = 4000
MAX_NAME = 200

Numbers = tuple[Decimal | None, Decimal | None, Decimal | None]


@dataclass(frozen=True)
class Action:
    """One thing one person did to one break."""

    break_id: str
    action: str
    actor: str
    at: datetime  # UTC, naive
    note: str | None = None
    owner: str | None = None
    reason_code: str | None = None
    # The break as the analyst saw it when acting.
    status: str | None = None
    expected: Decimal | None = None
    actual: Decimal | None = None
    difference: Decimal | None = None

    @property
    def numbers(self) -> Numbers:
        return (self.expected, self.actual, self.difference)


@dataclass(frozen=True)
class State:
    """A break's workflow state as its actions leave it, before the numbers are compared."""

    workflow_status: str = NEW
    owner: str | None = None
    reason_code: str | None = None
    note: str | None = None
    explained_numbers: Numbers | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None


def parse_reason_codes(text: str | None) -> tuple[str, ...]:
    """`timing,fee_rounding,...` (the setting RECON_WORKFLOW_REASON_CODES), or the defaults."""
    codes = tuple(c.strip() for c in (text or "").split(",") if c.strip())
    for code in codes:
        if not code.replace("_", "").isalnum() or not code.islower():
            raise ValueError(
                f"RECON_WORKFLOW_REASON_CODES: {code!r} is not a reason code "
                "(lower case letters, digits and underscores)"
            )
    return codes or DEFAULT_REASON_CODES


def check(action: Action, reason_codes: Sequence[str]) -> Action:
    """The action if it is well formed; a ValueError saying what is wrong otherwise."""
    if action.action not in ACTIONS:
        raise ValueError(f"unknown action {action.action!r}; known: {', '.join(ACTIONS)}")
    actor = action.actor.strip()
    if not actor or len(actor) > MAX_NAME or actor == RUN_ACTOR:
        raise ValueError(f"an action needs the name of a person (not {RUN_ACTOR!r})")
    if not action.break_id or len(action.break_id) > 64:
        raise ValueError("an action needs the break_id of a break")
    note = (action.note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ValueError(f"a note is at most {MAX_NOTE} characters")
    owner = (action.owner or "").strip() or None
    if owner is not None and len(owner) > MAX_NAME:
        raise ValueError(f"an owner's name is at most {MAX_NAME} characters")
    if action.action == EXPLAINED and action.reason_code not in reason_codes:
        raise ValueError(f"explain needs a reason code, one of: {', '.join(reason_codes)}")
    if action.action == COMMENTED and note is None:
        raise ValueError("a comment needs a note")
    reason = action.reason_code if action.action == EXPLAINED else None
    return replace(action, actor=actor, note=note, owner=owner, reason_code=reason)


def apply(state: State, action: Action) -> State:
    """The state after one more action."""
    kind = action.action
    out = replace(
        state,
        note=action.note or state.note,
        updated_at=action.at,
        updated_by=action.actor,
    )
    if kind == ACKNOWLEDGED and state.workflow_status == NEW:
        out = replace(out, workflow_status=ACKNOWLEDGED)
    elif kind == ASSIGNED:
        out = replace(out, owner=action.owner)
    elif kind == EXPLAINED:
        out = replace(
            out,
            workflow_status=EXPLAINED,
            reason_code=action.reason_code,
            explained_numbers=action.numbers,
        )
    elif kind == UNEXPLAINED and state.workflow_status == EXPLAINED:
        # Someone looked at it and withdrew the explanation: it is acknowledged, not new.
        out = replace(out, workflow_status=ACKNOWLEDGED, reason_code=None, explained_numbers=None)
    return out


def fold(actions: Iterable[Action]) -> dict[str, State]:
    """Each break's state after its actions, taken in the order they happened."""
    states: dict[str, State] = {}
    for action in sorted(actions, key=lambda a: a.at):
        states[action.break_id] = apply(states.get(action.break_id, State()), action)
    return states


def current(state: State | None, numbers: Numbers) -> State:
    """The state as it holds for a break with these numbers now: an explanation given for
    other numbers has lapsed, and the break is new again."""
    if state is None:
        return State()
    if state.workflow_status == EXPLAINED and state.explained_numbers != numbers:
        return replace(state, workflow_status=NEW, reason_code=None, explained_numbers=None)
    return state
