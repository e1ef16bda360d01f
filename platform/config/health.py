"""A bare liveness view for load balancers (and the floor that the benchmarks measure against)."""

from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
