"""The access file and its rules, without an index: what each mistake says, what a set of groups
may read, reloading, and ``add_user`` keeping what an administrator wrote."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sakuin.search.access import Rule, Rules
from sakuin.search.access.authfile import AuthFile, parse
from sakuin.search.access.users import add_user, token_hash
from sakuin.search.errors import SakuinError
from sakuin.search.query.filters import FAll, FAny, FNot, Match

HR = Rule((("path", ("hr/",)),), frozenset({"hr"}))
LEGAL = Rule((("category", ("法務", "契約")), ("path", ("./legal/",))), frozenset({"legal", "*"}))


def test_a_user_reads_what_their_rules_name_and_the_default_decides_the_rest() -> None:
    deny = Rules((HR,), "deny")
    assert deny.access_for({"hr"}).node == Match("path", ("hr/",))
    assert deny.access_for({"sales"}).denies_all and deny.access_for(set()).denies_all
    allow = Rules((HR,), "allow")
    assert allow.access_for({"sales"}).node == FNot(FAny((Match("path", ("hr/",)),)))
    assert allow.access_for({"hr"}).node == FAny((Match("path", ("hr/",)), FNot(FAny((Match("path", ("hr/",)),)))))
    assert Rules((), "allow").access_for(set()).allows_all
    both = Rules((HR, LEGAL), "deny").access_for(set())  # "*" admits everyone signed in
    assert both.node == FAll((Match("category", ("法務", "契約")), Match("path", ("legal/",))))


def test_keys_follow_the_rules_so_caches_never_serve_old_ones() -> None:
    assert Rules((HR,)).access_for({"hr"}).key == Rules((HR,)).access_for({"hr", "x"}).key
    assert Rules((HR,)).access_for({"hr"}).key != Rules((HR, LEGAL)).access_for({"hr"}).key


GOOD = f"""
default = "allow"
[users.hana]
token_sha256 = "{token_hash("t")}"
groups = ["hr"]
[users."ken.sato@example.jp"]
token_sha256 = "{token_hash("u").upper()}"
[[allow]]
path = "hr/"
groups = ["hr"]
[[allow]]
category = ["人事", "給与"]
type = "pdf"
groups = ["*"]
[proxy]
addresses = ["127.0.0.1", "10.0.0.0/8", "::1"]
groups_header = "X-Auth-Groups"
"""


def test_a_good_file_reads_whole() -> None:
    config = parse(GOOD)
    assert config.rules.default == "allow" and len(config.rules.allow) == 2
    assert config.users["hana"].groups == {"hr"} and config.users["ken.sato@example.jp"].groups == set()
    assert config.users["ken.sato@example.jp"].token_sha256 == token_hash("u")  # hex in either case
    assert config.proxy is not None and config.proxy.groups_header == "X-Auth-Groups"
    assert config.proxy.trusts("10.3.4.5") and config.proxy.trusts("::ffff:127.0.0.1") and config.proxy.trusts("::1")
    assert (
        not config.proxy.trusts("192.168.0.1") and not config.proxy.trusts("nonsense") and not config.proxy.trusts(None)
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("default = [", "not valid TOML"),
        ('default = "open"', 'default must be "allow" or "deny"'),
        ("users = 3", "token_sha256"),
        ('[users."two words"]\ntoken_sha256 = "x"', "user name"),
        ('[users.a]\ntoken_sha256 = "abc"', "64 hex digits"),
        (f'[users.a]\ntoken_sha256 = "{token_hash("t")}"\ngroups = "hr"', "groups must be a list"),
        (f'[users.a]\ntoken_sha256 = "{token_hash("t")}"\nrole = "x"', "unknown key 'role'"),
        ('[[allow]]\ngroups = ["a"]', "names no documents"),
        ('[[allow]]\npath = "a/"', "groups must be a list"),
        ('[[allow]]\npath = "a/"\ngroups = []', "groups must be a list"),
        ('[[allow]]\npath = 3\ngroups = ["a"]', "a string or a list of strings"),
        ('[[allow]]\nCategory = "x"\ngroups = ["a"]', "unknown key 'Category'"),
        ('[[allow]]\npath = "a/"\ngroups = ["a b"]', "groups must be a list"),
        ("[proxy]\naddresses = []", "proxy addresses"),
        ('[proxy]\naddresses = ["localhost"]', "proxy addresses"),
        ('[proxy]\naddresses = ["127.0.0.1"]\nsso = "yes"', "true or false"),
        ('[proxy]\naddresses = ["127.0.0.1"]\nuser_header = "X User"', "a header name"),
        ("allow = 1", "allow rule 1"),
    ],
)
def test_every_mistake_is_one_line_that_says_what_to_write(text: str, says: str) -> None:
    with pytest.raises(SakuinError) as caught:
        parse(text, "access.toml")
    message = str(caught.value)
    assert caught.value.code == "bad_auth_file" and caught.value.exit == 2
    assert says in message and message.startswith(("access.toml", "cannot use")) and "\n" not in message


def test_the_file_is_read_again_when_it_changes_and_a_broken_one_keeps_the_last_rules(tmp_path: Path) -> None:
    path = tmp_path / "access.toml"
    path.write_text('[[allow]]\npath = "a/"\ngroups = ["g"]\n', encoding="utf-8")
    watched = AuthFile(path, check_seconds=0)
    assert watched.current().rules.allow[0].conditions == (("path", ("a/",)),)
    path.write_text('[[allow]]\npath = "b/"\ngroups = ["g"]\n', encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert watched.current().rules.allow[0].conditions == (("path", ("b/",)),)
    path.write_text("[[allow]\n", encoding="utf-8")
    assert watched.current().rules.allow[0].conditions == (("path", ("b/",)),)
    path.unlink()
    assert watched.current().rules.allow[0].conditions == (("path", ("b/",)),)
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")  # an empty file: no users, deny everything
    assert AuthFile(empty).current().rules == Rules((), "deny")


def test_add_user_keeps_the_administrators_comments_and_refuses_what_the_server_would(tmp_path: Path) -> None:
    path = tmp_path / "access.toml"
    path.write_text('# who reads HR\n[[allow]]\npath = "hr/"  # the folder\ngroups = ["hr"]\n', encoding="utf-8")
    token = add_user(path, "hana", ["hr", "hr"])
    text = path.read_text(encoding="utf-8")
    assert "# who reads HR" in text and "# the folder" in text and token not in text
    assert parse(text).users["hana"].token_sha256 == token_hash(token) and parse(text).users["hana"].groups == {"hr"}
    with pytest.raises(SakuinError, match="already"):
        add_user(path, "hana", [])
    assert add_user(path, "hana", ["x"], replace=True) != token
    for name, groups, says in (("a b", [], "bad user name"), ("ok", ["a,b"], "bad group name")):
        with pytest.raises(SakuinError, match=says):
            add_user(path, name, groups)
    broken = tmp_path / "broken.toml"
    broken.write_text("default = [", encoding="utf-8")
    with pytest.raises(SakuinError, match="not valid TOML"):
        add_user(broken, "hana", [])
    assert broken.read_text(encoding="utf-8") == "default = ["
