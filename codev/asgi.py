"""ASGI entry point: HTTP through Django, websockets through Channels."""
import os
import warnings

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "codev.settings")
django.setup(set_prefix=False)
from codev.pages import PageHandler  # noqa: E402  (needs Django set up)

django_asgi_app = PageHandler()  # Django's ASGIHandler, one thread hop per request (codev/pages.py)
# WhiteNoise streams static files with a sync iterator; Django serves it correctly under ASGI but
# warns on every file. The warning says nothing actionable here, so keep the log readable.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from workshops.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

from codev import collector  # noqa: E402

collector.tune()  # last: everything above lives as long as the process
