"""Every URL the host routes, read from the URLconf, so a new endpoint joins the suites that
walk them (HEAD support, hostile input) without anyone remembering to add it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    """One routed URL: its pattern as written, and the names of the values it takes."""

    pattern: str
    name: str
    params: tuple[str, ...]

    def url(self, values: Mapping[str, str]) -> str:
        """The path with each parameter replaced by `values[name]` (its text as given)."""
        path = _PARAM.sub(lambda match: values[match.group("name")], self.pattern)
        path = _GROUP.sub(lambda match: values[match.group("name")], path)
        return "/" + path.replace("^", "").replace("$", "")

    @property
    def is_admin(self) -> bool:
        return self.pattern.startswith("admin/")


def _walk(patterns: list, prefix: str, namespace: str) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            if isinstance(entry.pattern, RegexPattern):
                params = tuple(match.group("name") for match in _GROUP.finditer(pattern))
            else:
                params = tuple(match.group("name") for match in _PARAM.finditer(pattern))
            yield Route(pattern=pattern, name=f"{namespace}{entry.name or pattern}", params=params)


def host_routes() -> list[Route]:
    """Every route of the host's URLconf, admin included, in URLconf order."""
    return list(_walk(get_resolver().url_patterns, "", ""))
