"""The embedded fake providers: a seeded world, planted anomalies, transport faults, ASGI apps.

It imitates the providers; it shares no code with the pipeline's connectors.
"""

from sandbox.app import SandboxApp, create_app
from sandbox.build import build_world
from sandbox.config import ANOMALY_KINDS, FAULT_KINDS, FaultConfig, WorldConfig, default_config
from sandbox.world import World

__all__ = [
    "ANOMALY_KINDS",
    "FAULT_KINDS",
    "FaultConfig",
    "SandboxApp",
    "World",
    "WorldConfig",
    "build_world",
    "create_app",
    "default_config",
]
