"""The UI-free BuilderOS client: no Textual import here, so the app, the harness and the tests
all drive the very same protocol code."""
