"""BuilderOS Terminal: one `builderos` command for the chat client, mock backend and harness."""

__version__ = "0.1.0"
