"""The local stack behind `make run` and the local make targets (docs/local.md).

    run.py      `make run` / `make deploy-local`: the phases from a fresh clone to a served
                endpoint (standard library only: it runs before any venv exists)
    state.py    what .local/ holds and how to reach the emulator; shared by every room
    phases.py   the short `[  12.4s] phase  message` progress lines; shared
    emulator/   the AWS emulator: moto server with the fixes (moto_server.py), its saved state (persistence.py),
                started and stopped in the background (control.py)
    runtime/    the function as Lambda runs it: function URL server (function_url.py), HTTP <->
                event (adapter.py), the zip under awslambdaric (artifact.py, runtime_api.py,
                function_env.py), handler settings from the shell (overrides.py)
    tools/      the other local targets: tflocal apply/outputs/destroy (deploy.py), info and
                password (info.py), logs.py, query.py, load.py, verify.py, and a deployment on
                AWS (aws.py: `make verify|password ENV=prod`)

Only the standard library is imported here.
"""

from __future__ import annotations

from pathlib import Path

#: The checkout this package belongs to (links resolved).
ROOT = Path(__file__).resolve().parent.parent
