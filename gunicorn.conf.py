"""gunicorn's settings for the console, read by every `gunicorn` started in this folder (`make run`, tests).

Each console instance gets a control socket of its own, `<CONSOLE_VAR_DIR>/run/gunicorn-<address>.ctl` (for
`gunicornc -s PATH`): gunicorn's default is one path per user, so two consoles on a host shared it and
stopping one removed the other's. A `--control-socket` given on the command line wins.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

_VAR_DIR = Path(os.environ.get("CONSOLE_VAR_DIR", Path(__file__).resolve().parent / "var"))


def on_starting(server: Any) -> None:
    setting = server.cfg.settings["control_socket"]
    if setting.value != setting.default:
        return
    address = re.sub(r"[^A-Za-z0-9.-]+", "_", "+".join(server.cfg.bind).replace(":", "-"))
    path = _VAR_DIR / "run" / f"gunicorn-{address}.ctl"
    path.parent.mkdir(parents=True, exist_ok=True)
    server.cfg.set("control_socket", str(path))
