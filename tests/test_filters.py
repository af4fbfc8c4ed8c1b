"""Parsing the filters from a link: every bad value dropped with a readable, markup-free notice."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from queries._base import FACTS, where
from queries.filters import FILTER_PARAMS, Filters, parse_filters, to_params
from rsp_data.registry import registry
from rsp_data.schema import monthly_metrics

REG = registry()
KNOWN = {
    "regions": [r.id for r in REG.regions],
    "sectors": [s.id for s in REG.sectors],
    "partnerships": [p.id for p in REG.partnerships],
    "first_month": "2021-03",
    "last_month": "2026-10",
}

HOSTILE = [
    "<script>alert(1)</script>",
    "capital' OR 1=1 --",
    'capital"; DROP TABLE monthly_metrics; --',
    "`rm -rf /`",
    "<img src=x onerror=alert(1)>",
]


def parse(params, **overrides):
    return parse_filters(params, **{**KNOWN, **overrides})


def assert_clean(notices):
    for notice in notices:
        assert "<" not in notice, notice
        assert ">" not in notice, notice
        assert "`" not in notice, notice


# --------------------------------------------------------------------------- good values


def test_empty_params_give_default_filters():
    filters, notices = parse({})
    assert filters == Filters()
    assert filters.is_default()
    assert notices == []


def test_good_values_parsed():
    filters, notices = parse(
        {
            "region": ["capital"],
            "sector": ["healthcare"],
            "rsp": ["capital-healthcare"],
            "from": ["2024-01"],
            "to": ["2025-06"],
        }
    )
    assert notices == []
    assert filters == Filters(
        regions=("capital",),
        sectors=("healthcare",),
        partnerships=("capital-healthcare",),
        month_from="2024-01",
        month_to="2025-06",
    )


def test_plain_string_values_accepted():
    filters, notices = parse({"region": "southwest", "from": "2022-08"})
    assert notices == []
    assert filters == Filters(regions=("southwest",), month_from="2022-08")


def test_repeated_keys_and_comma_separated_values():
    filters, notices = parse(
        {
            "region": ["capital", "southwest,eastern"],
            "sector": ["technology, manufacturing"],
            "rsp": ["capital-technology,southwest-technology", "capital-technology"],
        }
    )
    assert notices == []
    assert filters.regions == ("capital", "southwest", "eastern")
    assert filters.sectors == ("technology", "manufacturing")
    # the duplicate is kept once, in first-seen order
    assert filters.partnerships == ("capital-technology", "southwest-technology")


def test_month_bounds_themselves_are_accepted():
    filters, notices = parse({"from": ["2021-03"], "to": ["2026-10"]})
    assert notices == []
    assert (filters.month_from, filters.month_to) == ("2021-03", "2026-10")


def test_single_month_range_is_accepted():
    filters, notices = parse({"from": ["2024-05"], "to": ["2024-05"]})
    assert notices == []
    assert (filters.month_from, filters.month_to) == ("2024-05", "2024-05")


def test_no_bounds_known_accepts_any_valid_month():
    filters, notices = parse({"from": ["1999-01"]}, first_month=None, last_month=None)
    assert notices == []
    assert filters.month_from == "1999-01"


# --------------------------------------------------------------------------- unknown values


@pytest.mark.parametrize(
    ("param", "noun", "field"),
    [("region", "region", "regions"), ("sector", "sector", "sectors"), ("rsp", "partnership", "partnerships")],
)
def test_unknown_value_dropped_with_notice_naming_it(param, noun, field):
    filters, notices = parse({param: ["atlantis", "capital-healthcare,capital,healthcare"]})
    assert len([n for n in notices if "atlantis" in n]) == 1
    notice = next(n for n in notices if "atlantis" in n)
    assert noun in notice
    assert "atlantis" not in getattr(filters, field)
    assert_clean(notices)


def test_unknown_region_keeps_the_good_ones():
    filters, notices = parse({"region": ["capital", "atlantis", "southwest"]})
    assert filters.regions == ("capital", "southwest")
    assert len(notices) == 1
    assert "atlantis" in notices[0]
    assert "region" in notices[0]


def test_ids_are_case_sensitive():
    filters, notices = parse({"region": ["Capital"]})
    assert filters.regions == ()
    assert len(notices) == 1
    assert "Capital" in notices[0]


# --------------------------------------------------------------------------- bad months


@pytest.mark.parametrize(
    "value", ["2099-99", "2025-13", "2025-00", "March 2025", "2025-3", "25-03", "2025/03", "0000-01", "2025-03-01", ""]
)
@pytest.mark.parametrize("name", ["from", "to"])
def test_malformed_month_ignored_with_notice(name, value):
    filters, notices = parse({name: [value]})
    assert filters.month_from is None
    assert filters.month_to is None
    if value:  # an empty value is simply absent
        assert len(notices) == 1
        assert name in notices[0]
        # Wrong shape: the format is explained; right shape but no such month or year: that is said.
        if value in ("2099-99", "2025-13", "2025-00"):
            assert f"there is no month {value[-2:]}" in notices[0]
        elif value == "0000-01":
            assert "the year 0000 is out of range" in notices[0]
        else:
            assert "YYYY-MM" in notices[0]
    else:
        assert notices == []
    assert_clean(notices)


@pytest.mark.parametrize("value", ["2020-12", "2026-11", "2099-01", "1900-01"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_month_outside_the_data_ignored_with_notice(name, value):
    filters, notices = parse({name: [value]})
    assert (filters.month_from, filters.month_to) == (None, None)
    assert len(notices) == 1
    assert value in notices[0]
    assert "2021-03" in notices[0]
    assert "2026-10" in notices[0]


def test_from_after_to_drops_both_with_notice():
    filters, notices = parse({"from": ["2025-06"], "to": ["2024-01"]})
    assert (filters.month_from, filters.month_to) == (None, None)
    assert len(notices) == 1
    assert "2025-06" in notices[0]
    assert "2024-01" in notices[0]


def test_duplicate_from_uses_the_first_with_notice():
    filters, notices = parse({"from": ["2024-01", "2025-01"]})
    assert filters.month_from == "2024-01"
    assert len(notices) == 1
    assert "from" in notices[0]
    assert "2 times" in notices[0]


def test_duplicate_to_comma_separated_uses_the_first_with_notice():
    filters, notices = parse({"to": ["2025-01,2024-01"]})
    assert filters.month_to == "2025-01"
    assert len(notices) == 1


def test_good_filters_survive_a_bad_month():
    filters, notices = parse({"region": ["capital"], "from": ["2099-99"], "to": ["2025-01"]})
    assert filters == Filters(regions=("capital",), month_to="2025-01")
    assert len(notices) == 1


# --------------------------------------------------------------------------- hostile values


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("param", ["region", "sector", "rsp", "from", "to"])
def test_hostile_values_ignored_with_clean_notice(param, value):
    filters, notices = parse({param: [value]})
    assert filters == Filters()
    assert notices, "a dropped value must be explained"
    assert_clean(notices)


def test_sql_fragment_notice_names_it_without_markup():
    filters, notices = parse({"region": ["capital' OR 1=1 --"]})
    assert filters.regions == ()
    assert len(notices) == 1
    assert "capital' OR 1=1 --" in notices[0]
    assert_clean(notices)


def test_script_notice_is_defanged():
    _, notices = parse({"sector": ["<script>alert(1)</script>"]})
    assert len(notices) == 1
    assert "script" in notices[0]
    assert "<script>" not in notices[0]
    assert_clean(notices)


def test_very_long_value_is_shortened_in_the_notice():
    value = "x" * 5000
    _, notices = parse({"region": [value]})
    assert len(notices) == 1
    assert len(notices[0]) < 200


def test_unicode_digits_do_not_slip_through_as_months():
    # Fullwidth digits match \d; with bounds known they must still be rejected.
    filters, notices = parse({"from": ["２０２４-０１"]})
    assert filters.month_from is None
    assert len(notices) == 1
    assert_clean(notices)


# --------------------------------------------------------------------------- to_params


def test_to_params_omits_defaults():
    assert to_params(Filters()) == {}
    full = Filters(month_from="2021-03", month_to="2026-10")
    assert to_params(full, first_month="2021-03", last_month="2026-10") == {}


def test_to_params_writes_non_defaults():
    params = to_params(
        Filters(
            regions=("capital", "southwest"),
            sectors=("technology",),
            partnerships=("capital-technology",),
            month_from="2022-01",
            month_to="2026-10",
        ),
        first_month="2021-03",
        last_month="2026-10",
    )
    assert params == {
        "region": ["capital", "southwest"],
        "sector": ["technology"],
        "rsp": ["capital-technology"],
        "from": ["2022-01"],
    }
    assert set(params) <= set(FILTER_PARAMS)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(regions=("capital",)),
        Filters(regions=("capital", "southwest"), sectors=("technology", "manufacturing")),
        Filters(partnerships=("capital-technology", "southwest-technology"), month_from="2022-08"),
        Filters(sectors=("healthcare",), month_from="2022-01", month_to="2024-12"),
        Filters(month_to="2025-03"),
    ],
)
def test_to_params_round_trips(filters):
    params = to_params(filters, first_month=KNOWN["first_month"], last_month=KNOWN["last_month"])
    back, notices = parse(params)
    assert notices == []
    assert back == filters


def test_full_range_round_trips_to_the_default():
    # months equal to the data bounds are left out of the link and read back as 'all'
    filters = Filters(regions=("eastern",), month_from="2021-03", month_to="2026-10")
    back, notices = parse(to_params(filters, first_month="2021-03", last_month="2026-10"))
    assert notices == []
    assert back == Filters(regions=("eastern",))


# --------------------------------------------------------------------------- bound parameters


def _stmt(filters: Filters):
    return select(monthly_metrics.c.rsp_id).select_from(FACTS).where(*where(filters, monthly_metrics))


def _all_param_values(compiled) -> list:
    out = []
    for v in compiled.params.values():
        out.extend(v if isinstance(v, list | tuple) else [v])
    return out


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["regions", "sectors", "partnerships"])
def test_values_reach_sql_as_bound_parameters(field, value):
    stmt = _stmt(Filters(**{field: (value,)}))
    sql = str(stmt)
    assert value not in sql
    assert "OR 1=1" not in sql
    assert "DROP" not in sql
    compiled = stmt.compile()
    assert value in _all_param_values(compiled)
    # also when rendered for real dialects, with the expanding IN spelled out
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        rendered = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        assert value not in str(rendered)
        assert value in _all_param_values(rendered)


def test_month_values_are_bound_too():
    stmt = _stmt(Filters(month_from="2022-08", month_to="2022-09"))
    sql = str(stmt)
    assert "2022" not in sql
    params = _all_param_values(stmt.compile())
    assert len(params) == 2


def test_hostile_region_runs_harmlessly(engine):
    from queries.metrics import kpi_summary

    kpi = kpi_summary(engine, Filters(regions=("capital' OR 1=1 --",)))
    assert kpi["placements"] == 0
    assert kpi["employers_engaged"] == 0
    # the table is still there and intact
    assert kpi_summary(engine, Filters())["placements"] == 38


def test_non_ascii_digits_are_not_months():
    # MONTH_RE uses \d, which also matches fullwidth and Arabic-Indic digits; a link month must be
    # ASCII YYYY-MM. With no data bounds to catch it, such a value must still be rejected as malformed.
    from queries.filters import valid_month

    assert not valid_month("２０２４-０１")
    assert not valid_month("٢٠٢٤-٠١")
    filters, notices = parse({"from": ["２０２４-０１"]}, first_month=None, last_month=None)
    assert filters.month_from is None
    assert len(notices) == 1
    assert "YYYY-MM" in notices[0]
