"""Parser, macro expansion and printer: rule kinds, clauses, errors and real policies."""

from __future__ import annotations

import pytest

from gpfskit.language import (
    Attribute,
    Between,
    Binary,
    Case,
    CurrentTimestamp,
    Function,
    In,
    Interval,
    IsNull,
    Like,
    Literal,
    PolicySyntaxError,
    Rule,
    RuleKind,
    Unary,
    expand_macros,
    format_expression,
    format_policy,
    format_rule,
    parse_expression,
    parse_policy,
    parse_rule,
)

REAL_POLICY = """\
RULE 'sas1-placement' SET POOL 'sas1' WHERE FILESET_NAME LIKE 'sas1-%'
RULE 'default' SET POOL 'sata1'
RULE 's6' SET POOL 'system' ACTION(setxattr('user.action','set pool s6')) WHERE name LIKE 'sp%'
RULE 'COMPR1' MIGRATE FROM POOL 'datapool' COMPRESS('yes') WHERE NAME LIKE 'green%'
RULE EXTERNAL POOL 'externalpoolA' EXEC '/usr/hsm/bin/hsmControl' OPTS '-server=hsm-manager.nyc.com'
RULE EXTERNAL LIST 'mylist' EXEC '' ESCAPE '%/+@#'
RULE 'mig' MIGRATE FROM POOL 'system' THRESHOLD(90,70) WEIGHT(KB_ALLOCATED) TO POOL 'sata1' \
LIMIT(95) FOR FILESET('a','b') WHERE (DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME)) > 30
RULE 'l' LIST 'big' DIRECTORIES_PLUS \
SHOW(VARCHAR(USER_ID)||':'||VARCHAR(FILE_SIZE)||':'||VARCHAR(KB_ALLOCATED)) \
WHERE FILE_SIZE > 1048576 AND PATH_NAME LIKE '%/x_%' ESCAPE 'x'
RULE 'q' LIST 'quota' THRESHOLD(80,60) WHERE (CURRENT_TIMESTAMP - MODIFICATION_TIME) < \
INTERVAL '121' SECONDS
RULE 'gp' GROUP POOL 'gpool' IS 'system' LIMIT(80) THEN 'sas1' LIMIT(90) THEN 'sata1'
RULE 'ex' EXCLUDE DIRECTORIES_PLUS WHERE PATH_NAME LIKE '%/.snapshots/%'
RULE EXTERNAL LIST 'q' EXEC '/bin/x' THRESHOLD 'FILESET_QUOTA_SOFT'
define(exclude_list, (PATH_NAME LIKE '%/.SpaceMan/%' OR PATH_NAME LIKE '%/.snapshots/%' OR \
NAME LIKE 'mmbackup%'))
define(access_age, (DAYS(CURRENT_TIMESTAMP) - DAYS(ACCESS_TIME)))
define(is_migrated, (MISC_ATTRIBUTES LIKE '%V%'))
define(DISPLAY_NULL, [CASE WHEN ($1) IS NULL THEN '_NULL_' ELSE varchar($1) END])
RULE 'old' LIST 'old' SHOW(DISPLAY_NULL(XATTR('user.project'))) WHERE access_age > 30 AND \
NOT exclude_list AND NOT is_migrated AND REGEX(NAME, ['^[a-z]*$'])
"""


def test_real_policy_parses_and_round_trips():
    policy = parse_policy(REAL_POLICY)
    assert len(policy) == 13
    assert parse_policy(format_policy(policy)) == policy
    kinds = [r.kind for r in policy]
    assert kinds == [
        RuleKind.SET_POOL,
        RuleKind.SET_POOL,
        RuleKind.SET_POOL,
        RuleKind.MIGRATE,
        RuleKind.EXTERNAL_POOL,
        RuleKind.EXTERNAL_LIST,
        RuleKind.MIGRATE,
        RuleKind.LIST,
        RuleKind.LIST,
        RuleKind.GROUP_POOL,
        RuleKind.EXCLUDE,
        RuleKind.EXTERNAL_LIST,
        RuleKind.LIST,
    ]


def test_real_policy_details():
    p = parse_policy(REAL_POLICY)
    assert p[0] == Rule(
        RuleKind.SET_POOL,
        name="sas1-placement",
        pool="sas1",
        where=Like(Attribute("FILESET_NAME"), Literal("sas1-%")),
    )
    assert p[1] == Rule(RuleKind.SET_POOL, name="default", pool="sata1")
    assert p[2].action == Function("SETXATTR", (Literal("user.action"), Literal("set pool s6")))
    assert p[2].where == Like(Attribute("NAME"), Literal("sp%"))
    assert p[3].compress == "yes" and p[3].from_pool == "datapool" and p[3].to_pool is None
    assert p[4].pool == "externalpoolA"
    assert p[4].exec_ == "/usr/hsm/bin/hsmControl"
    assert p[4].opts == "-server=hsm-manager.nyc.com"
    assert p[5].exec_ == "" and p[5].escape == "%/+@#" and p[5].list_name == "mylist"
    mig = p[6]
    assert mig.threshold == (90, 70) and mig.limit == 95 and mig.to_pool == "sata1"
    assert mig.weight == Attribute("KB_ALLOCATED") and mig.for_fileset == ("a", "b")
    assert mig.where == Binary(
        ">",
        Binary(
            "-",
            Function("DAYS", (CurrentTimestamp(),)),
            Function("DAYS", (Attribute("ACCESS_TIME"),)),
        ),
        Literal(30),
    )
    lst = p[7]
    assert lst.directories_plus and lst.list_name == "big" and len(lst.show) == 1
    assert lst.where.right == Like(Attribute("PATH_NAME"), Literal("%/x_%"), Literal("x"))
    assert p[8].where.right == Interval(Literal("121"), "SECONDS")
    assert p[9].pool == "gpool"
    assert p.group_pools() == {"gpool": ("system", "sas1", "sata1")}
    assert p[9].group_members == (("system", 80), ("sas1", 90), ("sata1", None))
    assert p[10].kind is RuleKind.EXCLUDE and p[10].directories_plus
    assert p[11].threshold == "FILESET_QUOTA_SOFT"
    old = p[12]
    assert isinstance(old.show[0], Case)
    assert old.where.right == Function("REGEX", (Attribute("NAME"), Literal("^[a-z]*$")))


def test_every_rule_kind_and_clause():
    text = """
    /* placement */
    RULE 'a' SET POOL 'p' LIMIT(90) REPLICATE(2) FOR FILESET('f1') ACTION(SetXattr('u.x', 'y'))
         WHERE USER_ID = 0
    RULE 'b' SET SNAP_POOL 'snap' LIMIT(50) WHERE TRUE
    RULE 'c' RESTORE TO POOL 'p2' LIMIT(10) REPLICATE(1) FOR FILESET('x') WHERE NAME = 'a'
    RULE 'd' ENCRYPTION 'E1' IS ALGO 'DEFAULTNISTSP800131A' KEYS('1:RKM1', '2:RKM2')
    RULE 'e' SET ENCRYPTION 'E1', 'E2' FOR FILESET('x') WHERE NAME LIKE '%.secret'
    RULE 'f' WHEN DAYOFWEEK(CURRENT_DATE) = 1 MIGRATE COMPRESS('lz4') FROM POOL 'a'
         THRESHOLD(90, 80, 70) WEIGHT(FILE_SIZE) TO POOL 'b' LIMIT(99) REPLICATE(1)
         FOR FILESET('x', 'y') SHOW('-s' FILE_SIZE) SIZE(KB_ALLOCATED * 1024)
         ACTION(TRUE) WHERE FILE_SIZE > 0
    RULE 'g' DELETE DIRECTORIES_PLUS FROM POOL 'a' THRESHOLD(95) WEIGHT(0) FOR FILESET('x')
         SHOW(NAME) SIZE(0) ACTION(TRUE) WHERE NAME LIKE '%.tmp'
    RULE 'h' EXCLUDE FROM POOL 'a' FOR FILESET('x') WHERE TRUE
    RULE 'i' LIST 'l' EXCLUDE DIRECTORIES_PLUS WHERE TRUE
    RULE 'j' EXTERNAL POOL 'hsm' EXEC '/bin/hsm' OPTS '-v' ESCAPE '%' SIZE 10485760
    RULE 'k' EXTERNAL LIST 'l' EXEC '/bin/l' OPTS '' ESCAPE '%' THRESHOLD 'USER_QUOTAS' SIZE 5
    RULE GROUP POOL IS 'a' THEN 'b'
    """
    p = parse_policy(text)
    assert [r.kind for r in p] == [
        RuleKind.SET_POOL,
        RuleKind.SET_SNAP_POOL,
        RuleKind.RESTORE,
        RuleKind.ENCRYPTION,
        RuleKind.SET_ENCRYPTION,
        RuleKind.MIGRATE,
        RuleKind.DELETE,
        RuleKind.EXCLUDE,
        RuleKind.LIST,
        RuleKind.EXTERNAL_POOL,
        RuleKind.EXTERNAL_LIST,
        RuleKind.GROUP_POOL,
    ]
    assert p[0].limit == 90 and p[0].replicate == 2 and p[0].for_fileset == ("f1",)
    assert p[2].to_pool == "p2"
    assert p[3].encryption_specs == ("E1",) and p[3].encryption_keys == ("1:RKM1", "2:RKM2")
    assert p[4].encryption_specs == ("E1", "E2")
    f = p[5]
    assert f.when is not None and f.compress == "lz4" and f.threshold == (90, 80, 70)
    assert f.show == (Literal("-s"), Attribute("FILE_SIZE"))
    assert f.size == Binary("*", Attribute("KB_ALLOCATED"), Literal(1024))
    assert p[8].exclude and p[8].directories_plus
    assert p[9].size == Literal(10485760)
    assert p[10].threshold == "USER_QUOTAS" and p[10].size == Literal(5)
    assert p[11].pool is None and p[11].group_members == (("a", None), ("b", None))
    assert parse_policy(format_policy(p)) == p


def test_clause_order_is_free_after_the_verb_and_keywords_ignore_case():
    a = parse_rule("rule 'm' migrate where name like 'x%' to pool 'b' from pool 'a' weight(1)")
    b = parse_rule("RULE 'm' MIGRATE FROM POOL 'a' WEIGHT(1) TO POOL 'b' WHERE NAME LIKE 'x%'")
    assert a == b
    assert (
        format_rule(a)
        == "RULE 'm' MIGRATE FROM POOL 'a' WEIGHT(1) TO POOL 'b' WHERE NAME LIKE 'x%'"
    )


def test_strings_numbers_and_comments():
    r = parse_rule(
        "RULE 'it''s' /* a */ LIST 'x' /* b */ WHERE NAME = 'a''b' AND FILE_SIZE > 1.5e3"
    )
    assert r.name == "it's"
    assert r.where.left == Binary("=", Attribute("NAME"), Literal("a'b"))
    assert r.where.right.right == Literal(1500.0)
    assert "'it''s'" in format_rule(r)


def test_double_minus_is_not_a_comment():
    assert parse_expression("FILE_SIZE--1") == Binary("-", Attribute("FILE_SIZE"), Literal(-1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a_or", None),
        (
            "USER_ID = 1 OR USER_ID = 2 AND NOT USER_ID = 3",
            Binary(
                "OR",
                Binary("=", Attribute("USER_ID"), Literal(1)),
                Binary(
                    "AND",
                    Binary("=", Attribute("USER_ID"), Literal(2)),
                    Unary("NOT", Binary("=", Attribute("USER_ID"), Literal(3))),
                ),
            ),
        ),
        (
            "1 + 2 * 3 || 'x'",
            Binary(
                "||",
                Binary("+", Literal(1), Binary("*", Literal(2), Literal(3))),
                Literal("x"),
            ),
        ),
        ("-FILE_SIZE * 2", Binary("*", Unary("-", Attribute("FILE_SIZE")), Literal(2))),
        ("NAME NOT LIKE 'a%'", Like(Attribute("NAME"), Literal("a%"), negated=True)),
        ("USER_ID NOT IN (1, 2)", In(Attribute("USER_ID"), (Literal(1), Literal(2)), True)),
        (
            "FILE_SIZE NOT BETWEEN 1 AND 2 AND TRUE",
            Binary(
                "AND",
                Between(Attribute("FILE_SIZE"), Literal(1), Literal(2), True),
                Literal(True),
            ),
        ),
        ("XATTR('a') IS NOT NULL", IsNull(Function("XATTR", (Literal("a"),)), True)),
        ("USER_ID != 3", Binary("<>", Attribute("USER_ID"), Literal(3))),
        (
            "CASE USER_ID WHEN 0 THEN 'root' ELSE 'user' END",
            Case(((Literal(0), Literal("root")),), Literal("user"), Attribute("USER_ID")),
        ),
        ("INTERVAL '1' DAY", Interval(Literal("1"), "DAYS")),
        ("interval '2' hours", Interval(Literal("2"), "HOURS")),
        ("current_timestamp", CurrentTimestamp()),
    ],
)
def test_expression_precedence_and_forms(text, expected):
    if expected is None:
        with pytest.raises(PolicySyntaxError):
            parse_expression(text)
        return
    expr = parse_expression(text)
    assert expr == expected
    assert parse_expression(format_expression(expr)) == expr


def test_printer_parenthesises_minimally():
    e = parse_expression("(FILE_SIZE - (KB_ALLOCATED - 1)) * ((2))")
    assert format_expression(e) == "(FILE_SIZE - (KB_ALLOCATED - 1)) * 2"
    e = parse_expression("NOT (USER_ID = 1 OR USER_ID = 2)")
    assert format_expression(e) == "NOT (USER_ID = 1 OR USER_ID = 2)"
    assert format_expression(Unary("-", Literal(5))) == "-(5)"
    assert parse_expression(format_expression(Unary("-", Literal(5)))) == Unary("-", Literal(5))


def test_show_items_are_juxtaposed_safely():
    rule = Rule(
        RuleKind.LIST,
        list_name="l",
        show=(Attribute("NAME"), Binary("+", Literal(1), Literal(2)), Literal(-3)),
    )
    text = format_rule(rule)
    assert parse_rule(text) == rule


# -- macros ---------------------------------------------------------------------------------


def test_define_with_parameters_and_quotes():
    text = (
        "define(twice, [($1 + $1)])define(big, [FILE_SIZE > twice($1)])RULE LIST 'x' WHERE big(10)"
    )
    assert expand_macros(text).strip() == "RULE LIST 'x' WHERE FILE_SIZE > (10 + 10)"


def test_macro_names_are_not_expanded_inside_strings_or_comments():
    text = "define(foo, bar)foo 'foo' /* foo */ food [foo]"
    assert expand_macros(text) == "bar 'foo' /* foo */ food foo"


def test_dash_m_defines_substitute_whole_identifiers():
    text = "RULE 'x' LIST 'l' FOR FILESET('a') WHERE FILESET_NAME = FSETNAME"
    policy = parse_policy(text, {"FSETNAME": "'myfset'"})
    assert policy[0].where == Binary("=", Attribute("FILESET_NAME"), Literal("myfset"))
    # Only whole identifiers are replaced.
    with pytest.raises(PolicySyntaxError, match="FSETNAME_X"):
        parse_policy("RULE 'r' LIST 'l' WHERE NAME = FSETNAME_X", {"FSETNAME": "1"})
    text = "RULE 'r' SET POOL FSETNAME"
    assert parse_policy(text, {"FSETNAME": "'myfset'"})[0].pool == "myfset"
    # Optional m4 behaviour: expand inside strings too.
    text = "RULE 'r' LIST 'l' WHERE FILESET_NAME = 'FSETNAME'"
    p = parse_policy(text, {"FSETNAME": "myfset"}, expand_in_strings=True)
    assert p[0].where.right == Literal("myfset")
    p = parse_policy(text, {"FSETNAME": "myfset"})
    assert p[0].where.right == Literal("FSETNAME")


def test_ifdef_undef_dnl():
    text = "dnl a comment line\nifdef([X], [yes], [no]) define(X, 1)ifdef([X], [yes], [no])"
    assert expand_macros(text) == "no yes"
    assert expand_macros("define(X, 1)undef([X])X") == "X"


def test_recursive_macro_is_reported():
    with pytest.raises(PolicySyntaxError, match="too deep"):
        parse_policy("define(a, a)RULE LIST 'x' WHERE a")


# -- errors ---------------------------------------------------------------------------------


def test_error_position_and_message():
    text = "RULE 'a' SET POOL 'x'\n\nRULE 'm' MIGRATE TO PL 'x'"
    with pytest.raises(PolicySyntaxError) as info:
        parse_policy(text)
    err = info.value
    assert (err.line, err.column) == (3, 21)
    assert str(err) == "line 3, column 21: expected 'POOL' after 'TO', found 'PL'"
    assert isinstance(err, ValueError)


def test_error_positions_refer_to_the_original_text_after_macros():
    text = "define(m, [FILE_SIZE > 1])\nRULE 'x' LIST 'l' WHERE m AND\n   NAMEX = 1"
    with pytest.raises(PolicySyntaxError) as info:
        parse_policy(text)
    assert (info.value.line, info.value.column) == (3, 4)
    assert "unknown attribute 'NAMEX'" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("RULE 'a' SET POOL 'p' THRESHOLD(1)", "THRESHOLD is not allowed in a SET POOL rule"),
        ("RULE 'a' LIST 'l' WHERE TRUE WHERE TRUE", "duplicate WHERE clause"),
        ("RULE 'a' LIST 'l' WHERE FOO(1)", "unknown function 'FOO'"),
        ("RULE 'a' LIST 'l' WHERE DAYS(1, 2)", "DAYS takes 1 argument(s), got 2"),
        ("RULE 'a' LIST 'l' WHERE NAME = 'abc", "unterminated string"),
        ("RULE 'a' LIST 'l' /* x", "unterminated comment"),
        ("RULE 'a' LIST 'l' WHERE NAME = ?", "unexpected character '?'"),
        ("RULE 'a' LIST 'l' WHERE (NAME = 'a'", "expected ')'"),
        ("RULE 'a' LIST 'l' WHEER TRUE", "expected a clause of the LIST rule or 'RULE'"),
        ("RULE 'a' EXTERNAL LIST 'l' THRESHOLD(1)", "resource class"),
        ("RULE 'a' LIST 'l' THRESHOLD(1,2,3,4)", "at most three"),
        ("RULE 'a' FROB", "expected a rule verb"),
        ("LIST 'l'", "expected 'RULE'"),
        ("RULE 'a' LIST 'l' WHERE 1 = 2 = 3", "expected a clause"),
        ("RULE 'a' LIST 'l' WHERE INTERVAL '1' WEEKS > 1", "expected DAYS, HOURS"),
        ("RULE 'a' WHEN TRUE SET POOL 'x'", "WHEN is not allowed"),
        ("define(a, [b", "unterminated '[' quote"),
    ],
)
def test_syntax_errors(text, message):
    with pytest.raises(PolicySyntaxError) as info:
        parse_policy(text)
    assert message in str(info.value)
    assert info.value.line >= 1 and info.value.column >= 1
