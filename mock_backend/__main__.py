"""`python -m mock_backend` is `builderos mock`."""

import typer

from mock_backend.cli import mock

typer.run(mock)
