"""ASGI entry point: HTTP through Django, WebSockets through Channels, on one server.

Run from the repository root with ``uvicorn --app-dir platform config.asgi:application``.
"""

import gc
import os

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django_asgi_app = get_asgi_application()

from accounts.socket_session import SocketAuthMiddleware  # noqa: E402
from config.websocket import websocket_urlpatterns  # noqa: E402  (needs Django set up first)
from core.socket_gate import SiteOriginValidator  # noqa: E402
from screening.asgi import MediaDoors  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": MediaDoors(django_asgi_app),
        # The whole Origin must be the site's own; the user and the session the socket is bound to come
        # from the session cookie or allauth's X-Session-Token (accounts.socket_session).
        "websocket": SiteOriginValidator(SocketAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded so far (Django, the apps, the URL tree) lives as long as the process: keep it out of
# the cyclic collector's full passes, which otherwise stop every socket of the process for 80-150 ms
# (measured under `make bench`, 200 live threads).
gc.freeze()
