"""What an agent holds: one document per domain, kept as a snapshot plus a journal of the pushes since.

A push appends one line to `journal.jsonl` (the changed documents and the push count) and fsyncs it, so its
cost does not grow with the domains held. When the journal has grown past the snapshot, the whole state is
written to `state.json` (temp file, fsync, rename, fsync dir) and the journal starts again: the cost of the
snapshot is shared among as many pushes as there are domains. Replaying a journal over a snapshot keeps, per
domain, the highest revision, so a crash between the two writes loses nothing and repeats nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
JOURNAL_FILE = "journal.jsonl"
OLD_JOURNAL_FILE = "journal.old.jsonl"
TEMP_PREFIX = ".state-"
TEMP_SUFFIX = ".tmp"
MIN_COMPACT_BYTES = 1 << 20


class StateError(Exception):
    """The state cannot be read: refuse to start rather than forget what was applied."""


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

    def hold(self, changed: dict[str, dict[str, Any]], applied_at: str, pushes: int) -> None:
        """Take `changed` (domain → document, only newer revisions) and the push count, in place."""
        for name, doc in changed.items():
            if int(doc["revision"]) > self.held_revision(name):
                self.domains[name] = HeldDomain(document=doc, applied_at=applied_at)
        self.pushes = max(self.pushes, pushes)

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


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _replay(state: AgentState, journal: Path) -> None:
    if not journal.exists():
        return
    lines = journal.read_bytes().split(b"\n")
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            changed = entry["domains"]
            for name, doc in changed.items():
                if doc.get("domain") != name or not isinstance(doc.get("revision"), int):
                    raise ValueError(f"the entry of {name!r} is not a document")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if number == len(lines) - 1:
                break  # the last line of a push cut short by a crash: that push was never answered
            raise ValueError(f"line {number + 1}: {exc}") from exc
        state.hold(changed, entry.get("at") or now_iso(), int(entry.get("pushes", 0)))


def load_state(state_dir: Path) -> AgentState:
    """The state saved in `state_dir` (empty if none); StateError if it cannot be read."""
    for leftover in state_dir.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        leftover.unlink(missing_ok=True)
    path = state_dir / STATE_FILE
    try:
        state = AgentState.from_json(json.loads(path.read_text())) if path.exists() else AgentState()
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise StateError(f"cannot read {path}: {exc}") from exc
    for name in (OLD_JOURNAL_FILE, JOURNAL_FILE):
        try:
            _replay(state, state_dir / name)
        except (OSError, ValueError, RecursionError) as exc:
            raise StateError(f"cannot read {state_dir / name}: {exc}") from exc
    return state


def save_state(state_dir: Path, state: AgentState) -> None:
    """Write the whole `state` as the snapshot (a crash leaves the old file or the new one, whole)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    data = json.dumps(state.as_json(), separators=(",", ":"), sort_keys=True).encode()
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
    _fsync_dir(state_dir)


class StateStore:
    """Appends each push to the journal; compacts it into the snapshot when it outgrows it."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.journal = state_dir / JOURNAL_FILE
        self.snapshot = state_dir / STATE_FILE

    def append(self, changed: dict[str, dict[str, Any]], pushes: int, at: str) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"pushes": pushes, "at": at, "domains": changed}, separators=(",", ":")).encode()
        new = not self.journal.exists()
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            _fsync_dir(self.state_dir)

    def wants_compaction(self) -> bool:
        try:
            journal = self.journal.stat().st_size
        except FileNotFoundError:
            return False
        try:
            snapshot = self.snapshot.stat().st_size
        except FileNotFoundError:
            snapshot = 0
        return journal > max(snapshot, MIN_COMPACT_BYTES)

    def rotate(self, state: AgentState) -> AgentState:
        """Start a new journal and return a copy of `state` to snapshot (call while no push is written)."""
        os.replace(self.journal, self.state_dir / OLD_JOURNAL_FILE)
        return AgentState(domains=dict(state.domains), pushes=state.pushes, created_at=state.created_at)

    def compact(self, copy: AgentState) -> None:
        """Write the copy `rotate` returned as the snapshot, then drop the journal it replaces."""
        save_state(self.state_dir, copy)
        (self.state_dir / OLD_JOURNAL_FILE).unlink(missing_ok=True)
        _fsync_dir(self.state_dir)
