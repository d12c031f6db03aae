"""Reading a push: the body's shape, then each document through the wire contract (`edge_agent.contract`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edge_agent.contract import ContractError, Document, identify, parse


class DocumentError(ValueError):
    """The body of a push cannot be read as a batch; the message says where."""


@dataclass(frozen=True)
class Item:
    """One document of a push: its domain and revision, and either the parsed document or why not."""

    domain: str
    revision: int
    document: Document | None
    error: str = ""


def read_batch(payload: Any) -> list[Item]:
    """The documents of a push, each parsed on its own.

    A document that breaks the contract becomes an Item with its error (only that domain fails); a body that
    is not a batch, a document without a readable domain and revision, or a domain named twice refuses the
    whole push with DocumentError, since no result could be attributed.
    """
    if not isinstance(payload, dict):
        raise DocumentError("body: must be a JSON object")
    docs = payload.get("domains")
    if not isinstance(docs, list):
        raise DocumentError("body: 'domains' must be a list")
    items: list[Item] = []
    for index, doc in enumerate(docs):
        try:
            domain, revision = identify(doc)
        except ContractError as exc:
            raise DocumentError(f"domains[{index}]: {exc}") from None
        try:
            items.append(Item(domain, revision, parse(doc)))
        except ContractError as exc:
            items.append(Item(domain, revision, None, str(exc)))
    names = [item.domain for item in items]
    if len(names) != len(set(names)):
        raise DocumentError("body: a domain appears twice in one batch")
    return items


def check_batch(payload: Any) -> list[Document]:
    """The parsed documents of a push, refusing it whole if any breaks the contract (the strict reading)."""
    items = read_batch(payload)
    for index, item in enumerate(items):
        if item.document is None:
            raise DocumentError(f"domains[{index}] ({item.domain}): {item.error}")
    return [item.document for item in items if item.document is not None]
