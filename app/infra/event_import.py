"""`laurel import FILE`: a file of events, one JSON object per line, sent through `trackEvents`.

Each line is a `TrackEventInput` as JSON (`metricKey`, `user`, `value`, and usually
`occurredAt`). The file goes to a running Laurel over HTTP with an API key, like any client, so
every rule, permission and limit applies as it would to the application itself.

Resuming: a line without an `idempotencyKey` gets one derived from the key prefix (by default
the file's name), its line number and its text. Sending the file again, after an interruption
or a refusal, replays the lines already stored (they count once) and stores the rest. Laurel
keeps idempotency keys for 24 hours: resume within that time.

A refused line stops the import with its line number; everything before it is stored. A
network failure, a 429 or a 5xx, or a lock conflict the database broke is retried with backoff:
the batch is idempotent, so sending it twice stores it once.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import orjson

from app.domain.event_batches import MAX_BATCH

DOCUMENT = (
    "mutation($e: [TrackEventInput!]!) { trackEvents(input: {events: $e}) "
    "{ results { idempotentReplayed } } }"
)
RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0)
TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
BAR_WIDTH = 30
VARIABLE_PATH = re.compile(r"\$e' has invalid value at \[(\d+)\]")


class ImportRefused(Exception):
    """What stopped the import, in one line for the operator."""


class _BatchRefused(Exception):
    def __init__(self, message: str, stored: int) -> None:
        super().__init__(message)
        self.stored = stored


@dataclass(slots=True)
class Progress:
    """Lines sent so far and how many of them Laurel had stored already (replays)."""

    total: int
    sent: int = 0
    replayed: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        done = self.sent / self.total if self.total else 1.0
        filled = round(BAR_WIDTH * done)
        rate = self.sent / max(time.monotonic() - self.started, 1e-9)
        return (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.sent:,}/{self.total:,} events "
            f"({self.replayed:,} already stored), {rate:,.0f}/s"
        )


@dataclass(frozen=True, slots=True)
class Batch:
    line_numbers: list[int]
    events: list[Any]


def derived_key(prefix: str, line_number: int, text: str) -> str:
    digest = hashlib.sha256(f"{prefix}\n{line_number}\n{text}".encode()).hexdigest()
    return f"import:{digest[:48]}"


def read_batches(path: Path, size: int, prefix: str) -> Iterator[Batch]:
    """The file's events, `size` at a time; blank lines are skipped."""
    numbers: list[int] = []
    events: list[Any] = []
    with path.open(encoding="utf-8") as lines:
        for number, raw in enumerate(lines, start=1):
            text = raw.strip()
            if not text:
                continue
            try:
                event = orjson.loads(text)
            except orjson.JSONDecodeError as error:
                raise ImportRefused(f"line {number}: not JSON ({error})") from error
            if not isinstance(event, dict):
                raise ImportRefused(f"line {number}: an event must be a JSON object")
            event.setdefault("idempotencyKey", derived_key(prefix, number, text))
            numbers.append(number)
            events.append(event)
            if len(events) == size:
                yield Batch(numbers, events)
                numbers, events = [], []
    if events:
        yield Batch(numbers, events)


def count_events(path: Path) -> int:
    with path.open(encoding="utf-8") as lines:
        return sum(1 for raw in lines if raw.strip())


def import_file(
    path: Path,
    *,
    url: str,
    api_key: str,
    batch_size: int = 500,
    prefix: str | None = None,
    out: TextIO = sys.stderr,
) -> Progress:
    """Runs its own event loop: the file is read between requests, one batch at a time."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ImportRefused(f"--batch-size must be 1 to {MAX_BATCH}")
    if not path.is_file():
        raise ImportRefused(f"no file {path}")
    progress = Progress(count_events(path))
    batches = read_batches(path, batch_size, prefix or path.name)
    asyncio.run(_stream(batches, url.rstrip("/") + "/graphql", api_key, _Reporter(out, progress)))
    return progress


async def _stream(
    batches: Iterator[Batch], endpoint: str, api_key: str, reporter: _Reporter
) -> None:
    progress = reporter.progress
    async with httpx.AsyncClient(headers={"X-API-Key": api_key}, timeout=120.0) as client:
        for batch in batches:
            try:
                results = await _send(client, endpoint, batch)
            except _BatchRefused as refused:
                reporter.finish()
                stored = progress.sent + refused.stored
                raise ImportRefused(
                    f"{refused}; the {stored:,} events before it are stored: fix it and send "
                    "the file again"
                ) from refused
            progress.sent += len(results)
            progress.replayed += sum(1 for r in results if r["idempotentReplayed"])
            reporter.report()
    reporter.finish()


async def _send(client: httpx.AsyncClient, endpoint: str, batch: Batch) -> list[Any]:
    payload = {"query": DOCUMENT, "variables": {"e": batch.events}}
    for pause in (*RETRIES, None):
        try:
            answer = await client.post(endpoint, json=payload)
        except httpx.TransportError as error:
            if pause is None:
                raise ImportRefused(f"cannot reach {endpoint}: {error}") from error
            await asyncio.sleep(pause)
            continue
        if answer.status_code in TRANSIENT_STATUS and pause is not None:
            await asyncio.sleep(_retry_after(answer, pause))
            continue
        body = _json(answer)
        errors = body.get("errors") or []
        if errors and _contention(errors[0]) and pause is not None:
            await asyncio.sleep(pause)
            continue
        if errors:
            stored = (errors[0].get("extensions") or {}).get("stored", 0)
            raise _BatchRefused(
                _refusal(errors[0], batch), stored if isinstance(stored, int) else 0
            )
        return list(body["data"]["trackEvents"]["results"])
    raise AssertionError("the last attempt returns or raises")


def _json(answer: httpx.Response) -> Any:
    try:
        body = answer.json()
    except ValueError as error:
        raise ImportRefused(f"HTTP {answer.status_code}: not a GraphQL answer") from error
    if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
        raise ImportRefused(f"HTTP {answer.status_code}: not a GraphQL answer")
    return body


def _contention(error: Any) -> bool:
    return bool((error.get("extensions") or {}).get("reason") == "CONTENTION")


def _retry_after(answer: httpx.Response, pause: float) -> float:
    try:
        return max(pause, float(answer.headers.get("Retry-After", pause)))
    except ValueError:
        return pause


def _refusal(error: Any, batch: Batch) -> str:
    """The line is the refused event's `index`, or, for a value of the wrong type (refused
    before Laurel sees the batch), the position GraphQL's message names: `at [3].value`."""
    extensions = error.get("extensions") or {}
    code = extensions.get("code", "ERROR")
    index = extensions.get("index")
    if index is None and (found := VARIABLE_PATH.search(str(error.get("message", "")))):
        index = int(found.group(1))
    where = ""
    if isinstance(index, int) and 0 <= index < len(batch.line_numbers):
        where = f"line {batch.line_numbers[index]}: "
    return f"{where}{error.get('message', 'refused')} ({code})"


class _Reporter:
    """A bar redrawn in place on a terminal; elsewhere (a log), a line per tenth of the file."""

    def __init__(self, out: TextIO, progress: Progress) -> None:
        self._out, self.progress = out, progress
        self._tty = out.isatty()
        self._tenth = 0

    def report(self) -> None:
        if self._tty:
            self._out.write("\r" + self.progress.line())
            self._out.flush()
            return
        tenth = 10 * self.progress.sent // max(self.progress.total, 1)
        if tenth > self._tenth:
            self._tenth = tenth
            print(self.progress.line(), file=self._out, flush=True)

    def finish(self) -> None:
        if self._tty:
            self._out.write("\n")
            self._out.flush()
