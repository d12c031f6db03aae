"""The load generator of `bench_api`: lean asyncio HTTP/1.1 client connections keeping a number of calls in
flight for a while, recording each latency."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Phase:
    name: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


class HttpConnection:
    """A lean HTTP/1.1 client connection (keep-alive when the server allows it), so that the load
    generator, which shares the machine with the server, spends as little CPU as possible per call."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"POST {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
        self.writer.write(("\r\n".join([*lines, "content-length: 0", "", ""])).encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        fields = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split(" ", 2)[1]), body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def run_phase(
    host: str,
    port: int,
    phase: Phase,
    seconds: float,
    make: Any,
    warmup: float,
) -> Phase:
    """Keep `phase.concurrency` calls in flight for `seconds` (after `warmup`), recording each latency."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    deadline = measure_from + seconds

    async def worker() -> None:
        connection = HttpConnection(host, port)
        try:
            while (now := loop.time()) < deadline:
                path, headers = make()
                began = time.perf_counter()
                status, body = await connection.post(path, headers)
                elapsed = time.perf_counter() - began
                if now < measure_from:
                    continue
                if status == 200:
                    phase.latencies.append(elapsed)
                else:
                    code = json.loads(body).get("Code", str(status))
                    phase.errors[code] = phase.errors.get(code, 0) + 1
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(phase.concurrency)))
    phase.seconds = loop.time() - measure_from
    return phase
