"""Error pages (400, 403, 404, 500 and a refused CSRF token) inside the console's layout, in the reader's
language, with a way back."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext

logger = logging.getLogger(__name__)


def _page(
    request: HttpRequest, status: int, title: str, message: str, *, reload: bool = False
) -> HttpResponse:
    context = {"status": status, "title": title, "message": message, "reload": reload}
    try:
        body = loader.render_to_string("console/error.html", context, request=request)
    except Exception:  # the layout needs the database (the reader's account): say it plainly without it
        logger.exception("Error page %s rendered without the layout", status)
        body = loader.render_to_string("console/error_plain.html", context)
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        400,
        gettext("Bad request"),
        gettext("The console could not understand this request. Go back and try again."),
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        403,
        gettext("You cannot do this"),
        gettext(
            "Your role in this account does not allow this action. An owner or an administrator of the "
            "account can do it, or change your role on the Team page."
        ),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        404,
        gettext("Page not found"),
        gettext("There is no such page, or what it shows does not exist in your account (any more)."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        500,
        gettext("Something went wrong"),
        gettext("The console could not complete this request. Nothing was changed by it; try again shortly."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(
        request,
        403,
        gettext("The form has expired"),
        gettext(
            "The console refused this form because its security token is missing or out of date (the page "
            "was open for long, or you logged on again elsewhere). Reload the page and send it again."
        ),
        reload=True,
    )
