"""WHALET_USER_IDS_COMPLETE: only the deployment can say its Whalet users are the whole platform."""

from __future__ import annotations

import pytest

from assets.resources import WhaletResource


def test_the_configured_users_are_not_assumed_to_be_every_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WHALET_USER_IDS_COMPLETE", raising=False)
    assert WhaletResource().users_complete() is False
    monkeypatch.setenv("WHALET_USER_IDS_COMPLETE", "TRUE")
    assert WhaletResource().users_complete() is True
    # A run's config wins over the environment.
    assert WhaletResource(user_ids_complete=False).users_complete() is False
    monkeypatch.setenv("WHALET_USER_IDS_COMPLETE", "yes")
    with pytest.raises(ValueError, match="WHALET_USER_IDS_COMPLETE must be true or false"):
        WhaletResource().users_complete()
