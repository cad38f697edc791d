"""Every write to a model's rows told, whichever way it was made.

Django signals `save()` and `delete()` (post_save, post_delete) but not `QuerySet.update()`. A
model whose rows something kept elsewhere depends on (a page in the shared cache) takes this
queryset as its manager: its `update()` sends `rows_updated` with the primary keys of the rows
it changed and the columns it set, so the three signals together see every write.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.dispatch import Signal

# sender: the model; pks: the rows changed (read before the update, whose filter may name a
# column it sets); fields: the names of the columns set.
rows_updated = Signal()


class SignallingQuerySet(models.QuerySet):
    """A queryset whose `update()` sends `rows_updated` (when anyone listens)."""

    def update(self, **kwargs: Any) -> int:
        if not rows_updated.has_listeners(self.model):
            return super().update(**kwargs)
        pks = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        if pks:
            rows_updated.send(sender=self.model, pks=pks, fields=frozenset(kwargs))
        return count
