"""`run --machines FILE`: the machines file's two forms and its mistakes (no SSH needed)."""

from __future__ import annotations

import json

import pytest

from hypermetric.batch.machines import load_machines
from hypermetric.errors import UsageError

ONE = {"connection": {"hostname": "h1", "username": "u", "key": "~/.ssh/k"}, "slots": 2}


def test_a_list_of_machines(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps([ONE, {"connection": {"hostname": "h2", "port": 2222}}]))
    first, second = load_machines(str(path))
    assert (first.name, first.slots, first.connection.key) == ("u@h1", 2, "~/.ssh/k")
    assert (second.name, second.slots, second.workdir) == ("h2:2222", 1, "/tmp/hypermetric-remote")


def test_a_backend_object_shares_its_environments_and_a_machine_keeps_its_own(tmp_path):
    path = tmp_path / "m.yml"
    own = {**ONE, "environments": {"B": "mine"}}
    path.write_text("type: remote\nenvironments: {A: 1, B: shared}\nmachines: " + json.dumps([own, ONE]) + "\n")
    first, second = load_machines(str(path))
    assert dict(first.environments) == {"A": "1", "B": "mine"}
    assert dict(second.environments) == {"A": "1", "B": "shared"}


@pytest.mark.parametrize(("name", "text", "message"), [
    ("m.json", json.dumps({"machine": [ONE]}), "unknown field `machine`"),
    ("m.json", json.dumps({"type": "local", "machines": [ONE]}), "for the remote backend"),
    ("m.json", json.dumps([]), "non-empty list"),
    ("m.json", json.dumps("h1"), "expected a list of machines"),
    ("m.json", json.dumps([{"connection": {"hostname": "h", "port": "22"}}]), "port"),
    ("m.txt", "[]", "expected a .json, .yml or .yaml file"),
])
def test_mistakes_are_user_errors_naming_the_place(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        load_machines(str(path))
    assert message in str(caught.value.diagnostic.message)


def test_a_missing_file(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        load_machines(str(tmp_path / "none.json"))
