"""The HTTP shell: the JSON API (`api/`) and the server-rendered pages (`pages/`), sharing
dependencies, error handling and rendering. `app.http.app.create_app()` builds the FastAPI app."""
