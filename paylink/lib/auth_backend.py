"""Who a signed-in request is, without a query: the user row from the shared cache.

Every signed-in request asks for its user (AuthenticationMiddleware, then the sign-in check);
Django reads the row from the database each time. `CachedUserBackend.get_user` keeps it in the
default cache for USER_CACHE_SECONDS instead, and Django still checks the session's password
hash against it, so a password change signs other sessions out as before: every change of the
row (a save, a deletion) replaces the cached copy with a short-lived marker, at once and again
when the transaction commits. While the marker lives, the row is read from the database and not
cached, so a read that began before the change cannot put the old row back.

Only where the cache is shared by every process (settings.PAYLINK_SHARED_CACHE: Redis, or the
one process of the tests): a process's own memory would keep a copy the others never forget.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest

from paylink.lib.row_cache import row_dump, row_load, row_shape

USER_CACHE_SECONDS = 300
# Long enough for any read of the row begun before a change to have finished.
_CHANGED = "changed"
_CHANGED_SECONDS = 10


def user_cache_key(user_id: object) -> str:
    # The row as a dict of its columns, under its shape (paylink/lib/row_cache.py).
    return f"paylink:auth-user:{row_shape(get_user_model())}:{user_id}"


class CachedUserBackend(ModelBackend):
    """Django's ModelBackend, reading the signed-in user from the shared cache."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            # Refused here, so ModelBackend (listed after this one only for sessions signed in
            # before it) does not hash the same wrong password a second time.
            raise PermissionDenied
        return user

    def get_user(self, user_id: Any) -> Any:
        if not settings.PAYLINK_SHARED_CACHE:
            return super().get_user(user_id)
        key = user_cache_key(user_id)
        cached = cache.get(key)
        if isinstance(cached, dict):
            kept = row_load(get_user_model(), cached)
            return kept if self.user_can_authenticate(kept) else None
        user = super().get_user(user_id)
        if user is not None and cached is None:
            # `add`: a change made meanwhile left its marker, and wins.
            cache.add(key, row_dump(user), USER_CACHE_SECONDS)
        return user


def user_forget(user_id: object) -> None:
    """The cached row of `user_id` is no longer to be trusted: it is read afresh for a while."""
    cache.set(user_cache_key(user_id), _CHANGED, _CHANGED_SECONDS)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="paylink-user-saved")
@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="paylink-user-deleted")
def _user_changed(sender: object, instance: Any, **kwargs: object) -> None:
    user_id = instance.pk
    user_forget(user_id)
    # Again once the change is visible to others: a read between the two sees the old row.
    transaction.on_commit(lambda: user_forget(user_id))
