"""The embedded fake providers: a seeded world, planted anomalies, faults, ASGI apps.

OPEN-API (`SandboxApp`), JT wallet (`JtApp`) and Whalet (`WhaletApp`) serve one world on one
clock. It imitates the providers; it shares no code with the pipeline's connectors.
"""

from sandbox.app import SandboxApp, create_app
from sandbox.build import build_world
from sandbox.config import (
    ANOMALY_KINDS,
    FAULT_KINDS,
    JT_ANOMALY_KINDS,
    RESPONSE_FAULT_KINDS,
    WHALET_ANOMALY_KINDS,
    FaultConfig,
    JtConfig,
    WhaletConfig,
    WorldConfig,
    default_config,
)
from sandbox.jt import JtWorld
from sandbox.jt_app import JtApp
from sandbox.jt_sign import generate_merchant_key, sign_param
from sandbox.whalet import WhaletWorld
from sandbox.whalet_app import WhaletApp
from sandbox.world import World

__all__ = [
    "ANOMALY_KINDS",
    "FAULT_KINDS",
    "JT_ANOMALY_KINDS",
    "RESPONSE_FAULT_KINDS",
    "WHALET_ANOMALY_KINDS",
    "FaultConfig",
    "JtApp",
    "JtConfig",
    "JtWorld",
    "SandboxApp",
    "WhaletApp",
    "WhaletConfig",
    "WhaletWorld",
    "World",
    "WorldConfig",
    "build_world",
    "create_app",
    "default_config",
    "generate_merchant_key",
    "sign_param",
]
