"""What an agent holds: one document per domain, written atomically (temp file, fsync, rename, fsync dir)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
TEMP_PREFIX = ".state-"
TEMP_SUFFIX = ".tmp"


class StateError(Exception):
    """The state file exists but cannot be read: refuse to start rather than forget what was applied."""


def now_iso() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class HeldDomain:
    document: dict[str, Any]
    applied_at: str

    @property
    def revision(self) -> int:
        return int(self.document["revision"])

    @property
    def deleted(self) -> bool:
        return self.document.get("deleted") is True


@dataclass
class AgentState:
    domains: dict[str, HeldDomain] = field(default_factory=dict)
    pushes: int = 0
    created_at: str = field(default_factory=now_iso)

    def held_revision(self, domain: str) -> int:
        held = self.domains.get(domain)
        return held.revision if held else 0

    def after_push(self, changed: dict[str, dict[str, Any]], applied_at: str) -> AgentState:
        """A new state holding `changed` (domain → document) and counting one more accepted push."""
        domains = dict(self.domains)
        for name, doc in changed.items():
            domains[name] = HeldDomain(document=doc, applied_at=applied_at)
        return AgentState(domains=domains, pushes=self.pushes + 1, created_at=self.created_at)

    def live_documents(self) -> dict[str, dict[str, Any]]:
        return {name: held.document for name, held in self.domains.items() if not held.deleted}

    def as_json(self) -> dict[str, Any]:
        return {
            "created_at": self.created_at,
            "pushes": self.pushes,
            "domains": {
                name: {"document": held.document, "applied_at": held.applied_at}
                for name, held in sorted(self.domains.items())
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentState:
        for name, item in data.get("domains", {}).items():
            document = item["document"]
            if document.get("domain") != name or not isinstance(document.get("revision"), int):
                raise ValueError(f"the entry of {name!r} is not a held document")
        return cls(
            domains={
                name: HeldDomain(document=item["document"], applied_at=item["applied_at"])
                for name, item in data.get("domains", {}).items()
            },
            pushes=int(data.get("pushes", 0)),
            created_at=data.get("created_at") or now_iso(),
        )


def load_state(state_dir: Path) -> AgentState:
    """The state saved in `state_dir` (empty if none); StateError if the file cannot be read."""
    for leftover in state_dir.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        leftover.unlink(missing_ok=True)
    path = state_dir / STATE_FILE
    if not path.exists():
        return AgentState()
    try:
        return AgentState.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise StateError(f"cannot read {path}: {exc}") from exc


def save_state(state_dir: Path, state: AgentState) -> None:
    """Write `state` so that a crash at any point leaves either the old file or the new one, whole."""
    state_dir.mkdir(parents=True, exist_ok=True)
    data = json.dumps(state.as_json(), indent=1, sort_keys=True).encode()
    fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, state_dir / STATE_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(state_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
