"""Local data hygiene, shared by the client's history and the mock's session database: files
that hold conversations are private to their user, and an SQLite file is opened checked (a
damaged one set aside, never deleted; write-ahead-log frames lost in a crash counted; someone
else's file refused). Standard library only: the mock backend shares nothing else with the
client (an import contract holds both rules)."""
