"""Coalescing of delivery tasks: while a task of a shard waits in the queue, the changes made meanwhile join
it instead of queueing a task each.

A change adds its domains to the shard's pending set, in the broker's Redis, and queues a task only if none
of that shard is queued already (a flag, set if absent); a task, when it starts, lowers the flag, then moves
the pending set to a set of its own and delivers what it holds; that set goes only once the task is done (a
worker killed meanwhile leaves it to the message delivered again). A change that comes while a task runs
queues the next one. So under a stream of changes, each shard has at most one task waiting, and the workers
deliver rounds of many changes instead of running one task per change that finds the work already done (at
20 batch changes a second on 1,000 nodes, those tasks took a third of the machine).

The flag lives `QUEUED_SECONDS`: should the queued task be lost (a broker restart), changes queue tasks again
after that, and the reconciler delivers what waited. Without a Redis broker (the embedded default), every
change queues its own task, with its domains.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection

QUEUED_SECONDS = 10
PENDING_SECONDS = 3600

_store: tuple[str, redis.Redis] | None = None


def store() -> redis.Redis | None:
    """The broker's Redis (one client per process), or None if the broker is not Redis."""
    global _store
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    if _store is None or _store[0] != url:
        # Bounded waits: a change's commit hook must not hang on a Redis that stopped answering (it falls
        # back to the reconciler, as when the broker is down).
        _store = (url, redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2))
    return _store[1]


def _key(shard: int, shards: int) -> str:
    """The pending set of one shard; the flag is this with ":queued". Named after the database, so that two
    consoles (or two test runs) sharing a Redis never take each other's domains."""
    return f"edge:pending:{connection.settings_dict['NAME']}:{shards}:{shard}"


def join(client: redis.Redis, domain_ids: list[int], shards: int) -> list[int]:
    """Add the domains to the pending set of each of the `shards` shards (one round trip for all); returns the
    shards that need a task queued to take them (none is queued), the others' queued task takes them."""
    pipe = client.pipeline()
    for shard in range(shards):
        key = _key(shard, shards)
        pipe.sadd(key, *domain_ids).expire(key, PENDING_SECONDS)
        pipe.set(f"{key}:queued", 1, nx=True, ex=QUEUED_SECONDS)
    flags = pipe.execute()[2::3]
    return [shard for shard, raised in enumerate(flags) if raised]


def not_queued(client: redis.Redis, shard: int, shards: int) -> None:
    """The task could not be queued after all: the next change queues one."""
    client.delete(f"{_key(shard, shards)}:queued")


def take(client: redis.Redis, shard: int, shards: int, task_id: str) -> list[int]:
    """A task starts: lower the flag (a change from now on queues the next task), then move the domains
    pending to the task's own set, and return them. A change made from now on adds its domains to the
    emptied pending set again, for the next task; the same message delivered again (its worker was killed)
    takes its own set again, with what is pending by then."""
    key = _key(shard, shards)
    taken = f"{key}:taken:{task_id}"
    pipe = client.pipeline()  # MULTI/EXEC: no change slips in between the move and the emptying
    pipe.delete(f"{key}:queued")
    pipe.sunionstore(taken, [taken, key]).delete(key).expire(taken, PENDING_SECONDS).smembers(taken)
    return sorted(int(member) for member in pipe.execute()[-1])


def done(client: redis.Redis, shard: int, shards: int, task_id: str) -> None:
    """The task delivered what it took (or its retry's message names the domains): its set goes."""
    client.delete(f"{_key(shard, shards)}:taken:{task_id}")
