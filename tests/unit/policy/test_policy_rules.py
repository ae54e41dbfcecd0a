"""Rule objects -> policy text (parsed back with the language parser), the rules collection,
and ManagementPolicy's text, loading and saving."""

from __future__ import annotations

import pytest

from gpfskit.language import (
    Literal,
    RuleKind,
    format_policy,
    format_rule,
    parse_policy,
    parse_rule,
)
from gpfskit.policy import (
    Criteria,
    DeleteRule,
    ExcludeRule,
    ExternalListRule,
    ExternalPoolRule,
    ListProcessingRule,
    ListRule,
    ManagementPolicy,
    MapReduceRule,
    MigrateRule,
    RawRule,
    Rule,
    Rules,
    SetPoolRule,
)
from gpfskit.policy.errors import PolicyError


def text(rule: Rule) -> str:
    """The rule's policy text, after checking that it parses back to the same rules."""
    out = str(rule)
    parsed = parse_policy(out)
    assert [format_rule(r) for r in parsed] == out.splitlines()
    assert list(parsed) == rule.policy_rules()
    return out


# -- every form of the reference's Policies part -------------------------------------------


def test_set_pool_rule():
    assert text(SetPoolRule(target="sas1")) == "RULE SET POOL 'sas1'"
    rule = SetPoolRule(target="sas1", fileset="projects", limit=90, replicate=2)
    assert text(rule) == "RULE SET POOL 'sas1' LIMIT(90) REPLICATE(2) FOR FILESET('projects')"
    rule = SetPoolRule(target="sata1", fileset=["a", "b"], name="media")
    rule.criteria.new(Criteria.like("name", "*.mp4"))
    assert text(rule) == \
        "RULE 'media' SET POOL 'sata1' FOR FILESET('a', 'b') WHERE NAME LIKE '%.mp4'"
    with pytest.raises(PolicyError, match="no target pool"):
        SetPoolRule().check()       # printable, but refused before it is installed


def test_migrate_rule():
    rule = MigrateRule(source="system", target="sata1", threshold=(80, 60))
    assert text(rule) == "RULE MIGRATE FROM POOL 'system' THRESHOLD(80, 60) TO POOL 'sata1'"
    rule = MigrateRule(source="system", target="sata1", threshold=(90, 70, 50),
                       weight="KB_ALLOCATED", name="tier")
    rule.criteria.new(Criteria.gt("access", 30))
    assert text(rule) == (
        "RULE 'tier' MIGRATE FROM POOL 'system' THRESHOLD(90, 70, 50) WEIGHT(KB_ALLOCATED) "
        "TO POOL 'sata1' WHERE DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME) > 30")
    with pytest.raises(ValueError, match=r"0\.\.100"):
        MigrateRule(target="x", threshold=(120, 10))
    assert str(MigrateRule(source="system")) == "RULE MIGRATE FROM POOL 'system'"
    with pytest.raises(PolicyError, match="no target pool"):
        MigrateRule(source="system").check()


def test_delete_rule():
    assert text(DeleteRule()) == "RULE DELETE"
    rule = DeleteRule(directories_plus=True, name="cleanup")
    rule.criteria.new("NAME LIKE '%.tmp'")
    assert text(rule) == "RULE 'cleanup' DELETE DIRECTORIES_PLUS WHERE NAME LIKE '%.tmp'"


def test_list_rule():
    assert text(ListRule("all")) == "RULE LIST 'all'"
    assert text(ListRule("big", exclude=True, directories_plus=True)) == \
        "RULE LIST 'big' EXCLUDE DIRECTORIES_PLUS"
    rule = ListRule("big", criteria=Criteria.gt("size", "1G"))
    rule.show_attributes("FILE_SIZE", "user", "access")
    assert text(rule) == (
        "RULE LIST 'big' SHOW('FILE_SIZE=' || VARCHAR(FILE_SIZE) || ' USER_ID=' || "
        "VARCHAR(USER_ID) || ' ACCESS_TIME=' || VARCHAR(ACCESS_TIME)) WHERE FILE_SIZE > "
        "1073741824")
    rule.show_performance()
    assert text(rule) == "RULE LIST 'big' WHERE FILE_SIZE > 1073741824"
    rule.change(show="'owner=' || VARCHAR(USER_ID)")
    assert "SHOW('owner=' || VARCHAR(USER_ID))" in text(rule)


def test_exclude_rule():
    assert text(ExcludeRule()) == "RULE EXCLUDE"
    rule = ExcludeRule(name="snapshots")
    rule.criteria.new(Criteria.like("path", "*/.snapshots/*"))
    assert text(rule) == "RULE 'snapshots' EXCLUDE WHERE PATH_NAME LIKE '%/.snapshots/%'"


def test_external_list_and_pool_rules():
    assert text(ExternalListRule("tosync")) == "RULE EXTERNAL LIST 'tosync' EXEC ''"
    assert text(ExternalListRule("tosync", script="/usr/bin/sync-list", opts="-v -x",
                                 escape="%")) == \
        "RULE EXTERNAL LIST 'tosync' EXEC '/usr/bin/sync-list' OPTS '-v -x' ESCAPE '%'"
    assert text(ExternalListRule("q", script="/s", threshold="FILESET_QUOTA_SOFT")) == \
        "RULE EXTERNAL LIST 'q' EXEC '/s' THRESHOLD 'FILESET_QUOTA_SOFT'"
    assert text(ExternalPoolRule("hsm", "/usr/hsm/bin/hsmControl",
                                 opts="-server=hsm-manager.nyc.com")) == (
        "RULE EXTERNAL POOL 'hsm' EXEC '/usr/hsm/bin/hsmControl' "
        "OPTS '-server=hsm-manager.nyc.com'")
    with pytest.raises(ValueError, match="no criteria"):
        str(ExternalListRule("x", criteria="NLINK = 1"))


def test_list_processing_rule_compiles_to_an_external_list_and_a_list():
    rule = ListProcessingRule("user_counts", lambda files: None)
    assert rule.id == "user_counts"
    external, listing = text(rule).splitlines()
    assert external == "RULE EXTERNAL LIST 'user_counts' EXEC ''"
    assert listing.startswith(
        "RULE 'user_counts' LIST 'user_counts' SHOW(VARCHAR(FILE_SIZE) || '|'")
    rule.show_attributes("size", "user")
    assert text(rule).splitlines()[1] == (
        "RULE 'user_counts' LIST 'user_counts' SHOW(VARCHAR(FILE_SIZE) || '|' || "
        "VARCHAR(USER_ID))")
    rule.change(directories_plus=True, show="'owner=' || VARCHAR(USER_ID)")
    assert text(rule).splitlines()[1] == (
        "RULE 'user_counts' LIST 'user_counts' DIRECTORIES_PLUS SHOW(VARCHAR(FILE_SIZE) || "
        "'|' || VARCHAR(USER_ID) || '|' || 'owner=' || VARCHAR(USER_ID))")
    rule.show_performance()
    assert text(rule).splitlines()[1] == \
        "RULE 'user_counts' LIST 'user_counts' DIRECTORIES_PLUS"
    rule.criteria.new(Criteria.eq("fileset", "root"))
    rule.change(source="system", fileset="root", show=["name", "path", "size"])
    assert text(rule).splitlines()[1] == (
        "RULE 'user_counts' LIST 'user_counts' DIRECTORIES_PLUS FROM POOL 'system' "
        "FOR FILESET('root') SHOW(VARCHAR(FILE_SIZE)) WHERE FILESET_NAME = 'root'")


def test_map_reduce_rule():
    rule = MapReduceRule("sizes", lambda f: f.size, reducefn=lambda a, b: a + b)
    assert rule.id == "sizes"
    external, listing = text(rule).splitlines()
    assert external == "RULE EXTERNAL LIST 'sizes' EXEC ''"
    assert listing.startswith("RULE 'sizes' LIST 'sizes' SHOW(")
    with pytest.raises(TypeError):
        MapReduceRule("x", lambda f: 1, reducefn=3)


# -- names, ids and change ------------------------------------------------------------------


def test_unnamed_rules_get_a_random_id_not_written():
    a, b = DeleteRule(), DeleteRule()
    assert a.id != b.id and a.id.startswith("rule-")
    assert a.id not in str(a)
    named = DeleteRule(name="it's")
    assert named.id == "it's"
    assert text(named) == "RULE 'it''s' DELETE"


def test_change():
    rule = MigrateRule(source="system", target="sata1")
    assert rule.change(source="sas1", target="sata1", threshold=(70, 50), fileset="x",
                       weight=Criteria("KB_ALLOCATED * 2")) is rule
    assert text(rule) == ("RULE MIGRATE FROM POOL 'sas1' THRESHOLD(70, 50) "
                          "WEIGHT(KB_ALLOCATED * 2) TO POOL 'sata1' FOR FILESET('x')")
    assert rule.source == "sas1" and rule.target == "sata1" and rule.threshold == (70, 50)
    rule.change(threshold=None, fileset=None, weight=None)
    assert text(rule) == "RULE MIGRATE FROM POOL 'sas1' TO POOL 'sata1'"
    with pytest.raises(TypeError, match="no option 'listname'"):
        rule.change(listname="x")
    rule.change(name="renamed")
    assert rule.id == "renamed" and text(rule).startswith("RULE 'renamed' MIGRATE")
    processing = ListProcessingRule("l", len)
    processing.change(sort="size", directories_plus=True)
    assert processing.sort == "size"


def test_rules_from_policy_text_round_trip():
    source = (
        "RULE 'ext' EXTERNAL LIST 'x' EXEC '/bin/true' OPTS 'a b'\n"
        "RULE 'gp' GROUP POOL 'gp' IS 'system' LIMIT(80) THEN 'sas1'\n"
        "RULE 'm' MIGRATE COMPRESS('yes') FROM POOL 'gp' TO POOL 'sata1' SIZE(FILE_SIZE) "
        "ACTION(SETXATTR('user.a', 'b')) WHERE FILE_SIZE > 0\n"
        "RULE LIST 'x' SHOW('s=' || VARCHAR(FILE_SIZE)) WHERE NAME LIKE '%.c'\n"
        "RULE 'p' SET POOL 'system' LIMIT(95)\n")
    rules = [Rule.from_ast(node) for node in parse_policy(source)]
    assert [type(r) for r in rules] == [ExternalListRule, RawRule, MigrateRule, ListRule,
                                        SetPoolRule]
    assert format_policy([r.to_ast() for r in rules]) == format_policy(parse_policy(source))
    assert rules[2].source == "gp" and rules[2].target == "sata1"
    assert rules[3].listname == "x" and rules[3].show == "'s=' || VARCHAR(FILE_SIZE)"
    assert str(rules[3].criteria) == "NAME LIKE '%.c'"
    assert Rule.from_text("RULE DELETE WHERE NLINK = 0").to_ast() == \
        parse_rule("RULE DELETE WHERE NLINK = 0")
    assert RawRule("RULE 'r' RESTORE TO POOL 'system'").kind is RuleKind.RESTORE


# -- the rules collection -------------------------------------------------------------------


def test_rules_collection():
    rules = Rules()
    first = rules.new(ListRule, "a", name="first")
    second = rules.new(DeleteRule, name="second")
    third = rules.insert(ExcludeRule(name="third"), 0)
    assert rules.keys() == ["third", "first", "second"]
    assert list(rules) == ["third", "first", "second"]
    assert rules["first"] is first and rules[0] is third and rules[-1] is second
    assert "second" in rules and second in rules and "nope" not in rules
    assert str(rules) == "third,first,second" and len(rules) == 3
    assert rules.values() == [third, first, second]
    assert rules.items()[1] == ("first", first)
    assert rules.index("second") == 2
    rules.insert(second, 0)  # moving a rule keeps one copy
    assert rules.keys() == ["second", "third", "first"]
    with pytest.raises(ValueError, match="already a rule"):
        rules.new(DeleteRule, name="first")
    rules.destroy("first")
    rules.destroy(third)
    assert rules.keys() == ["second"]
    with pytest.raises(KeyError):
        rules.destroy("first")
    with pytest.raises(KeyError):
        rules["first"]
    with pytest.raises(TypeError):
        rules.new(int)
    unnamed = rules.new(DeleteRule)
    assert rules[unnamed.id] is unnamed


# -- ManagementPolicy text ------------------------------------------------------------------


def test_management_policy_text_puts_external_rules_first():
    p = ManagementPolicy()
    p.rules.new(ExcludeRule, name="x", criteria=Criteria.like("path", "*/.snapshots/*"))
    p.rules.new(ListProcessingRule, "user_counts", len)
    p.rules.new(MigrateRule, source="system", target="sata1")
    out = str(p)
    assert out.splitlines() == [
        "RULE EXTERNAL LIST 'user_counts' EXEC ''",
        "RULE 'x' EXCLUDE WHERE PATH_NAME LIKE '%/.snapshots/%'",
        out.splitlines()[2],
        "RULE MIGRATE FROM POOL 'system' TO POOL 'sata1'",
    ]
    assert out.splitlines()[2].startswith("RULE 'user_counts' LIST 'user_counts'")
    assert format_policy(parse_policy(out)) == out


def test_management_policy_from_a_file_and_save(tmp_path):
    path = tmp_path / "in.pol"
    path.write_text(
        "/* a comment */\n"
        "define(big, (FILE_SIZE > 1024))\n"
        "RULE 'm' MIGRATE FROM POOL 'system' TO POOL 'sata1' WHERE big\n"
        "RULE EXTERNAL LIST 'l' EXEC ''\n"
        "RULE LIST 'l' WHERE NAME LIKE 'a%'\n")
    p = ManagementPolicy(str(path))
    assert [type(r) for r in p.rules.values()] == [MigrateRule, ExternalListRule, ListRule]
    assert p.rules["m"].target == "sata1"
    assert str(p.rules["m"].criteria) == "FILE_SIZE > 1024"
    out = tmp_path / "out.pol"
    p.save(str(out))
    assert out.read_text() == str(p)
    assert ManagementPolicy(str(out)).rules.keys()[0] == "m"
    assert str(ManagementPolicy(str(out))) == str(p)


def test_management_policy_reports_syntax_errors(tmp_path):
    path = tmp_path / "bad.pol"
    path.write_text("RULE 'm' MIGRATE TO POOL\n")
    with pytest.raises(PolicyError, match=r"bad\.pol"):
        ManagementPolicy(str(path))


def test_literal_show_items_are_not_wrapped():
    rule = ListRule("x", show="'a' 'b'")
    node = rule.to_ast()
    assert node.show and isinstance(node.show[0], Literal)
