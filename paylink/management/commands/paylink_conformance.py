"""manage.py paylink_conformance: does the configured Atomic answer and send what the host assumes?

Against the simulator by default, the sandbox with ATOMIC_ENV=sandbox and its keys. Prints a
table (endpoints, then shapes) and writes the same as JSON (`--json`, default
var/paylink-conformance.json). Exits 1 when an endpoint fails or a shape is not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from paylink.services.conformance import (
    AspectResult,
    EndpointResult,
    conformance_endpoints,
    conformance_json,
    conformance_shapes,
)

SEEN_SHOWN = 6


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join("-" * width for width in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(), line]
    out += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return out


def _seen(aspect: AspectResult) -> str:
    items = list(aspect.seen.items())
    shown = ", ".join(f"{value} ({count})" for value, count in items[:SEEN_SHOWN])
    if len(items) > SEEN_SHOWN:
        shown += f", +{len(items) - SEEN_SHOWN} more"
    return shown or "-"


def _cut(value: str, limit: int = 70) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class Command(BaseCommand):
    help = (
        "Call every Atomic endpoint the host uses for a throw-away identifier, then report "
        "which shapes Atomic sent so far, against the README's conventions."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--identifier", default="", help="Throw-away identifier to use.")
        parser.add_argument("--task-id", default="", help="A task to ask status and details of.")
        parser.add_argument(
            "--json",
            default=str(Path(settings.BASE_DIR) / "var" / "paylink-conformance.json"),
            help="Where to write the JSON report.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target = f"{settings.ATOMIC_ENV} ({settings.ATOMIC_API_URL})"
        self.stdout.write(f"Conformance run against Atomic: {target}\n")
        endpoints = conformance_endpoints(
            identifier=options["identifier"], task_id=options["task_id"]
        )
        self._endpoints(endpoints)
        shapes = conformance_shapes()
        self._shapes(shapes)
        path = Path(options["json"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(conformance_json(endpoints=endpoints, shapes=shapes, target=target))
        self.stdout.write(f"\nJSON report: {path}")
        failed = [e.name for e in endpoints if not e.ok]
        unread = [a.label for a in shapes if a.verdict.startswith("NOT READ")]
        if failed or unread:
            raise CommandError(
                "Not conformant: " + "; ".join([*failed, *unread]) + ". See the table above."
            )

    def _endpoints(self, endpoints: list[EndpointResult]) -> None:
        self.stdout.write("\nEndpoints")
        rows = [
            (e.name, e.call, "ok" if e.ok else "FAILED", f"{e.milliseconds} ms", _cut(e.detail))
            for e in endpoints
        ]
        for line in _table(("endpoint", "call", "result", "time", "detail"), rows):
            self.stdout.write(line)

    def _shapes(self, shapes: list[AspectResult]) -> None:
        self.stdout.write("\nShapes Atomic sent (stored webhook events, SDK events, accounts)")
        rows = [
            (
                a.label,
                _cut(", ".join(a.assumed), 40),
                "any" if a.accepted is None else _cut(", ".join(a.accepted), 40),
                _cut(_seen(a)),
                a.verdict,
            )
            for a in shapes
        ]
        for line in _table(("aspect", "assumed", "host reads", "seen (count)", "verdict"), rows):
            self.stdout.write(line)
