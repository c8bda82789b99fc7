"""API route modules; each exposes `router` and is listed in `app.http.app.ROUTER_MODULES`."""
