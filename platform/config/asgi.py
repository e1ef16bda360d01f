"""ASGI entry point: HTTP through Django, WebSockets through Channels, on one server.

Run from the repository root with ``uvicorn --app-dir platform config.asgi:application``.
"""

import gc
import os

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django_asgi_app = get_asgi_application()

from config.websocket import websocket_urlpatterns  # noqa: E402  (needs Django set up first)
from screening.asgi import MediaDoors  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": MediaDoors(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded so far (Django, the apps, the URL tree) lives as long as the process: keep it out of
# the cyclic collector's full passes, which otherwise stop every socket of the process for 80-150 ms
# (measured under `make bench`, 200 live threads).
gc.freeze()
