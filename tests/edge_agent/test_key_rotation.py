"""An agent during a key rotation: it holds one key or both (its key file, read again when it changes), and a
request signed with the old and the new key passes whichever it holds; a key it does not hold never does."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from edge_agent.signing import KeyRing, SignatureError, signed_headers, verify, verify_request

BODY = b'{"domains":[]}'


def check(keys, headers) -> None:  # type: ignore[no-untyped-def]
    verify_request(keys, headers, method="POST", path="/v1/config", length=len(BODY))
    verify(keys, headers, BODY)


@pytest.mark.parametrize("held", [("old",), ("new",), ("old", "new"), ("new", "old")])
def test_a_request_signed_with_both_keys_passes_whichever_the_agent_holds(held) -> None:
    check(held, signed_headers(("old", "new"), BODY))


@pytest.mark.parametrize(("signed", "held"), [(("old",), ("new",)), (("other", "new2"), ("old", "new"))])
def test_a_key_the_agent_does_not_hold_is_refused(signed, held) -> None:
    with pytest.raises(SignatureError, match="bad signature"):
        check(held, signed_headers(signed, BODY))


def test_a_signature_list_cannot_be_stretched_to_guess() -> None:
    headers = signed_headers("old", BODY)
    forged = {**headers, "X-Edge-Signature": ",".join(["0" * 64] * 50)}
    with pytest.raises(SignatureError):
        verify(("old",), forged, BODY)


def test_the_key_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("old\n")
    ring = KeyRing(path=path)
    assert ring.keys() == ("old",)
    path.write_text("old\nnew\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1))
    assert ring.keys() == ("old", "new")
    path.write_text("new\n")
    assert ring.keys() == ("new",)
    path.unlink()
    assert ring.keys() == ("new",)  # a file being replaced: the keys read last stay
