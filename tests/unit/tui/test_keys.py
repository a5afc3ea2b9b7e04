"""The one table of keys (tui.model.keys) that the bindings, the bottom line, F1 and the palette are
derived from: it must be whole and consistent, or all four drift together."""

from __future__ import annotations

from tui.app import ChatApp
from tui.model import keys


def test_ids_are_unique_and_every_row_has_a_known_group() -> None:
    ids = [key.id for key in keys.KEYS]
    assert len(ids) == len(set(ids))
    assert {key.group for key in keys.KEYS} <= set(keys.GROUPS)


def test_the_bottom_line_ranks_are_one_each_best_first() -> None:
    ranks = [key.rank for key in keys.footer()]
    assert ranks == list(range(len(ranks)))
    assert [key.action for key in keys.footer()][:3] == ["help", "command_palette", "attach"]


def test_every_bound_key_runs_an_action_the_app_has() -> None:
    for key in keys.KEYS:
        if key.bound:
            name = key.action.split("(")[0]
            assert hasattr(ChatApp, f"action_{name}"), key.id


def test_the_app_binds_exactly_the_bound_rows_under_their_ids() -> None:
    bound = {key.id: key for key in keys.KEYS if key.bound}
    assert {binding.id: binding.key for binding in ChatApp.BINDINGS} == {  # type: ignore[union-attr]
        key_id: key.keys for key_id, key in bound.items()
    }


def test_f1_lists_every_row_once() -> None:
    listed = [key.id for rows in keys.by_group().values() for key in rows]
    assert sorted(listed) == sorted(key.id for key in keys.KEYS)
    assert keys.shown(next(k for k in keys.KEYS if k.id == "app.next_tab")) == (
        "ctrl+PageDown or alt+right"
    )
