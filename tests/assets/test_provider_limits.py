"""A provider's limits are settings: field, else `<PREFIX>_<SETTING>`, else the safe default."""

from __future__ import annotations

import pytest

from assets.resources import JtResource, OpenApiResource
from connectors.http import HttpSettings
from connectors.openapi.profile import PROFILE

URL = "http://127.0.0.1:9/v1"


def test_limits_come_from_the_field_else_the_environment_else_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAPI_MAX_IN_FLIGHT", raising=False)
    monkeypatch.delenv("OPENAPI_REQUESTS_PER_SECOND", raising=False)
    default = OpenApiResource(base_url=URL).http(PROFILE.codes)
    assert default.limiter.max_in_flight == HttpSettings().max_in_flight
    assert default.limiter.requests_per_second == HttpSettings().requests_per_second
    monkeypatch.setenv("OPENAPI_MAX_IN_FLIGHT", "6")
    monkeypatch.setenv("OPENAPI_REQUESTS_PER_SECOND", "12.5")
    from_env = OpenApiResource(base_url=URL).http(PROFILE.codes)
    assert (from_env.limiter.max_in_flight, from_env.limiter.requests_per_second) == (6, 12.5)
    field = OpenApiResource(base_url=URL, max_in_flight=2, requests_per_second=0).http(
        PROFILE.codes
    )
    assert (field.limiter.max_in_flight, field.limiter.requests_per_second) == (2, 0)
    # Two clients of one provider with the same limits share them.
    assert OpenApiResource(base_url=URL).http(PROFILE.codes).limiter is from_env.limiter
    for client in (default, from_env, field):
        client.close()


@pytest.mark.parametrize("value", ["many", "0", "-1", "nan", "2.5"])
def test_a_limit_that_is_not_a_number_names_its_setting(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JT_MAX_IN_FLIGHT", value)
    with pytest.raises(ValueError, match="JT_MAX_IN_FLIGHT"):
        JtResource(base_url=URL).http(PROFILE.codes)
