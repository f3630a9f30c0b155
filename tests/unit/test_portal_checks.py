"""A CHECK's conjuncts on the table reference: each on the one column it is about, the rest once under the
table (services/portal/checks.py)."""

from __future__ import annotations

import sqlalchemy as sa

from services.portal.checks import conjuncts, table_conjuncts


def test_conjuncts_split_on_the_top_level_ands_only():
    assert conjuncts("a > 0 AND (b < 1 AND c) AND d BETWEEN 1 AND 2 AND e IN ('x AND y')") == [
        "a > 0",
        "(b < 1 AND c)",
        "d BETWEEN 1 AND 2",
        "e IN ('x AND y')",
    ]
    case = "CASE kind WHEN 'earn' THEN points >= 0 ELSE points < 0 AND true END"
    assert conjuncts(f"{case} AND shortfall >= 0") == [case, "shortfall >= 0"]
    assert conjuncts("end_time > start_time and x = 1") == ["end_time > start_time", "x = 1"]


def test_each_conjunct_goes_to_the_column_it_names_the_rest_to_the_table():
    table = sa.Table(
        "lots",
        sa.MetaData(),
        sa.Column("points", sa.BigInteger),
        sa.Column("remaining", sa.BigInteger),
        sa.Column("kind", sa.Text, sa.CheckConstraint("'x' = 'x'")),
        sa.CheckConstraint("points > 0 AND remaining >= 0 AND remaining <= points"),
        sa.CheckConstraint("kind IN ('points', 'remaining')"),  # names in a literal are no columns
    )
    assert table_conjuncts(table) == {
        "kind": ["CHECK ('x' = 'x')", "CHECK (kind IN ('points', 'remaining'))"],  # declared on kind
        "points": ["CHECK (points > 0)"],
        "remaining": ["CHECK (remaining >= 0)"],
        None: ["CHECK (remaining <= points)"],
    }
