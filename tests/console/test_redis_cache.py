"""The Redis cache shares one client per connection pool: values still reach Redis, from many threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.cache import cache

from tests.conftest import require


def redis_cache() -> None:
    require(
        settings.CACHES["default"]["BACKEND"] == "common.cache.RedisCache",
        "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/15",
    )


def test_every_call_uses_the_same_client_and_reaches_redis():
    redis_cache()
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is client
    cache.set("redis-cache-test", {"n": 1}, timeout=30)
    assert client.exists(cache.make_and_validate_key("redis-cache-test")) == 1
    assert cache.get("redis-cache-test") == {"n": 1}
    cache.delete("redis-cache-test")


def test_threads_sharing_the_client_each_read_their_own_values():
    redis_cache()

    def round_trip(n: int) -> int:
        key = f"redis-cache-thread-{n}"
        cache.set(key, n, timeout=30)
        value = cache.incr(key, 1000)
        cache.delete(key)
        return value

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(round_trip, range(200))) == [n + 1000 for n in range(200)]
