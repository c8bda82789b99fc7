"""API route modules; each exposes `router` and is listed in `app.api.ROUTER_MODULES`."""
