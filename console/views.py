"""The console's root: signed calls of the Alibaba-compatible API and the pages share `/`."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt

from alibaba_api.views import api_entry, is_api_call
from domains.views import home


@csrf_exempt
def root(request: HttpRequest) -> HttpResponse:
    """`/`: the Alibaba-compatible API for signed calls (they carry their own signature), else the console."""
    if is_api_call(request):
        with translation.override("en"):  # the vendor's API answers in English, whatever the browser asks
            return api_entry(request)
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    return home(request)
