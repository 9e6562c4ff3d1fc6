"""The one interface every judge implements: rendered chat messages in, raw reply text out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class Judge(ABC):
    #: identifies the judge in cache keys and verdict records, e.g. "gpt-4o-2024-11-20"
    judge_id: str = "judge"
    #: where replies come from (an API's base URL; "local" or "builtin" for in-process judges),
    #: part of the cache key and of every verdict record
    endpoint: str = "local"
    #: sampling parameters sent with every request (part of the cache key)
    sampling: dict[str, Any] = {}
    #: how many requests may be in flight at once
    concurrency: int = 1

    @abstractmethod
    def complete(self, messages: list[dict]) -> str:
        """The judge's reply to one conversation."""

    def complete_many(
        self, conversations: list[list[dict]], on_reply: Callable[[int, str], None] | None = None
    ) -> list[str]:
        """Replies in input order, at most `concurrency` requests at a time. `on_reply(i, reply)`
        runs as each reply arrives (the stage caches it at once, so a failure later in the batch
        loses nothing already answered); the first failure is raised after the others finish."""
        replies: list[str | None] = [None] * len(conversations)

        def one(i: int) -> None:
            replies[i] = self.complete(conversations[i])
            if on_reply is not None:
                on_reply(i, replies[i])

        if self.concurrency <= 1 or len(conversations) <= 1:
            for i in range(len(conversations)):
                one(i)
        else:
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                futures = [pool.submit(one, i) for i in range(len(conversations))]
            errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:
                raise errors[0]
        return replies  # type: ignore[return-value]

    def describe(self) -> dict[str, Any]:
        """Provenance: the judge id, its sampling, and any deviation from the benchmark's judge."""
        return {
            "judge_id": self.judge_id,
            "endpoint": self.endpoint,
            "sampling": dict(self.sampling),
            "deviations": [],
        }
