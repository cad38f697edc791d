"""The signed-in person's own data: download it as JSON, or delete the account with it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from paylink import client
from paylink.forms import AccountDeleteForm
from paylink.lib.client_address import client_address
from paylink.lib.gzip_pieces import accepts_gzip
from paylink.lib.http import AuthedHttpRequest
from paylink.selectors.account_data import account_data_chunks, account_data_gzip
from paylink.services.account_deletion import account_delete


def _page(
    request: AuthedHttpRequest, form: AccountDeleteForm, *, status: int = 200
) -> HttpResponse:
    return render(request, "paylink/account.html", {"form": form}, status=status)


@require_safe
@never_cache
def account(request: AuthedHttpRequest) -> HttpResponse:
    return _page(request, AccountDeleteForm(user=request.user))


@require_safe
@never_cache
def account_export(request: AuthedHttpRequest) -> HttpResponseBase:
    response: HttpResponseBase
    gzip = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    if request.method == "HEAD":
        # The same answer without the body, and without gathering it.
        response = HttpResponse(content_type="application/json")
    elif gzip:
        # Megabytes of text at 5,000 accounts, kept compressed: sent as kept (a hundredth).
        response = HttpResponse(
            account_data_gzip(user=request.user), content_type="application/json"
        )
    else:
        response = StreamingHttpResponse(
            account_data_chunks(user=request.user), content_type="application/json"
        )
    if gzip:
        response["Content-Encoding"] = "gzip"
    patch_vary_headers(response, ["Accept-Encoding"])
    response["Content-Disposition"] = 'attachment; filename="payments-hub-data.json"'
    return response


@require_POST
@sensitive_post_parameters("password")
@never_cache
def account_delete_view(request: AuthedHttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST, user=request.user, address=client_address(request))
    if not form.is_valid():
        if form.block is not None:
            response = _page(request, form, status=429)
            response["Retry-After"] = str(form.block.retry_after)
            return response
        return _page(request, form, status=400)
    try:
        account_delete(user=request.user)
    except client.AtomicError:
        # Nothing was deleted: Atomic must stop monitoring first, and can be asked again.
        messages.error(
            request,
            _(
                "Atomic could not be reached to stop monitoring your accounts, so nothing was "
                "deleted. Please try again in a few minutes."
            ),
        )
        return _page(request, AccountDeleteForm(user=request.user))
    logout(request)
    messages.success(request, _("Your account and all its data have been deleted."))
    return redirect("login")
