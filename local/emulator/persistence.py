"""The local emulator's persistence: moto keeps everything in memory, so with --state-file the
services' state is pickled when the server stops (SIGTERM/SIGINT) and loaded at the next start
(local/emulator/moto_server.py). A local deployment, the logs that landed in it and its password
survive `make stop-local`.
"""

from __future__ import annotations

import copyreg
import importlib
import json
import os
import pickle
import time
import weakref
from collections import defaultdict
from pathlib import Path
from typing import Any

import moto
import moto.server
from moto.core.base_backend import BackendDict

STATE_FORMAT = 1

# moto indexes Lambda functions in weak-value dictionaries, which pickle cannot handle;
# the values are held elsewhere in the same state, so a plain dict round-trips them.
copyreg.pickle(weakref.WeakValueDictionary, lambda d: (weakref.WeakValueDictionary, (dict(d),)))


def _reduce_defaultdict(d: defaultdict[Any, Any]) -> tuple[Any, ...]:
    """defaultdicts whose factory is a lambda returning an empty dict/list/set (moto's
    Lambda aliases) pickle with that type as the factory instead."""
    factory = d.default_factory
    if factory is not None and getattr(factory, "__name__", "") == "<lambda>":
        sample = factory()
        if type(sample) in (dict, list, set) and not sample:
            factory = type(sample)
    return (defaultdict, (factory,), None, None, iter(d.items()))


copyreg.pickle(defaultdict, _reduce_defaultdict)


def _backend_dicts() -> list[BackendDict[Any]]:
    """moto's registry of every service's backends (the list itself)."""
    # moto declares the class-level registry as an attribute of its generic class, so mypy
    # cannot tell its element type from the class; moto's own code ignores it the same way.
    instances: list[BackendDict[Any]] = BackendDict._instances  # type: ignore[misc]
    return instances


def save_state(path: Path) -> dict[str, Any]:
    """Pickle every service that holds state; returns what was saved and what was not."""
    services: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    for backends in list(_backend_dicts()):
        if not len(backends):
            continue
        try:
            data = pickle.dumps(dict(backends), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - one service that cannot be saved must not lose the rest
            failed[backends.service_name] = f"{type(exc).__name__}: {exc}"
            continue
        services.append({"module": backends.backend.__module__, "service": backends.service_name, "data": data})
    document = {"format": STATE_FORMAT, "moto": moto.__version__, "services": services, "unsaved": failed}
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)
    return {"saved": [s["service"] for s in services], "unsaved": failed}


def _singleton(module_name: str, service: str) -> BackendDict[Any] | None:
    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if isinstance(value, BackendDict) and value.service_name == service:
            return value
    return None


def load_state(path: Path) -> dict[str, Any]:
    """Load a saved state into moto's backends. Never raises: a state that cannot be
    loaded is moved aside and reported, and the emulator starts empty."""
    status: dict[str, Any] = {"loaded_at": time.time(), "restored": False, "services": [], "unsaved": {}}
    if not path.exists():
        status["reason"] = "no saved state"
        return status
    try:
        document = pickle.loads(path.read_bytes())
        if document.get("format") != STATE_FORMAT or document.get("moto") != moto.__version__:
            raise ValueError(f"saved by moto {document.get('moto')}, this is moto {moto.__version__}")
        for item in document["services"]:
            backends = _singleton(item["module"], item["service"])
            if backends is None:
                raise ValueError(f"no backend for {item['service']} in {item['module']}")
            loaded = pickle.loads(item["data"])
            backends.clear()
            backends.update(loaded)
            if backends not in _backend_dicts():
                _backend_dicts().append(backends)
            status["services"].append(item["service"])
        status["unsaved"] = document.get("unsaved", {})
        status["restored"] = True
    except Exception as exc:  # noqa: BLE001 - report, keep the file for inspection, start empty
        aside = path.with_suffix(".unloadable")
        path.replace(aside)
        status["reason"] = f"{type(exc).__name__}: {exc} (moved to {aside.name})"
    return status


def running_marker(path: Path) -> Path:
    """Exists while an emulator runs with this state file: found at start, it says the last
    one was killed (SIGKILL, a crash) before it could save."""
    return path.with_name(path.name + ".running")


def install_save_on_stop(path: Path) -> None:
    def stop(signum: Any, frame: Any) -> None:
        report = save_state(path)
        running_marker(path).unlink(missing_ok=True)
        print(f"saved emulator state to {path}: {json.dumps(report)}", flush=True)
        os._exit(0)

    # moto's main() installs its own SIGTERM/SIGINT handler from this module attribute.
    moto.server.signal_handler = stop
