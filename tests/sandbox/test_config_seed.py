"""`recon sandbox manifest|serve --config FILE`: the file's seed stands unless --seed is given."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.cli import main
from sandbox.config import WorldConfig

# The smallest world the config allows: the test is about whose seed the world is built with.
SMALL = WorldConfig(seed=41, customers=1, days=2, entries_per_day=10)


def manifest_seed(tmp_path: Path, *seed_args: str) -> int:
    config = tmp_path / "world.json"
    config.write_text(json.dumps(SMALL.to_json()))
    out = tmp_path / "manifest.json"
    code = main(["sandbox", "manifest", "--config", str(config), "--out", str(out), *seed_args])
    assert code == 0
    manifest = json.loads(out.read_text())
    assert manifest["config"]["seed"] == manifest["seed"]
    seed: int = manifest["seed"]
    return seed


def test_a_config_file_keeps_its_own_seed_without_seed_flag(tmp_path: Path) -> None:
    assert manifest_seed(tmp_path) == 41


def test_an_explicit_seed_overrides_the_config_file(tmp_path: Path) -> None:
    assert manifest_seed(tmp_path, "--seed", "7") == 7
