"""API-wide behaviour: every error body has a ``detail`` message and, when known, a ``code``.

A ``DomainError`` that names the input at fault answers with the same body as input refused by
``core.middleware`` (``core.middleware.error_body``): ``{"detail", "code", "field", <field>: [detail]}``.
A request without credentials is a 401 with a ``WWW-Authenticate`` challenge, not DRF's 403: the session
(cookie or ``X-Session-Token``) is missing or has ended, and the client must sign in again.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError
from core.middleware import error_body

AUTHENTICATE_CHALLENGE = 'X-Session-Token realm="api"'


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError) and exc.field:
        # 400 whatever the error's class, as before: an error that names a field is about the input.
        body = error_body(detail=exc.message, code=exc.code, field=exc.field)
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DomainError):
        exc = exc.as_api_exception()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(
        exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed
    ):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response.setdefault("WWW-Authenticate", AUTHENTICATE_CHALLENGE)
    return response
