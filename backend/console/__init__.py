"""The bureau's staff console: server-rendered pages under /console (docs/console.md).

Server-rendered Jinja2 templates served by the backend itself: no second service, no build step,
pages that work with scripting off (the small console.js only adds an auto-refresh of the fleet
table and a confirmation before a decision). ``mount(app, services)`` adds the routes, the kiosk
heartbeat endpoint and the static files to the backend's FastAPI app.
"""

from backend.console.views import mount

__all__ = ["mount"]
