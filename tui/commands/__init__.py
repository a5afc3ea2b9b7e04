"""The client's commands: `builderos chat` (the app), `send` (one message, no screen), and
`sessions`/`search`/`export` (the history, local and remote). Each parses its flags and hands
over to the model and client below; nothing here is imported by them."""
