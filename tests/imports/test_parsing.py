"""Pinpoint's import formats, line by line (engine.imports.parsing): table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from engine.imports.parsing import ImportedRow, RowProblem, parse_csv_header, parse_lines

# The blog's step 1 shape: IN_APP endpoints with ids, user ids and the purchase metric
BLOG_CSV = """\
ChannelType,Address,Id,User.UserId,User.UserAttributes.FirstName,Metrics.LastPurchaseValue
IN_APP,,111,user-111,Maria,600
IN_APP,,222,user-222,John,200
"""


def rows(fmt: str, text: str) -> list[ImportedRow | RowProblem]:
    return list(parse_lines(fmt, text.splitlines()))  # type: ignore[arg-type]


def only(fmt: str, text: str) -> ImportedRow | RowProblem:
    results = rows(fmt, text)
    assert len(results) == 1, results
    return results[0]


def test_the_blog_csv_becomes_two_in_app_endpoints() -> None:
    first, second = rows("CSV", BLOG_CSV)
    assert first == ImportedRow(2, "111", {
        "ChannelType": "IN_APP", "Metrics": {"LastPurchaseValue": 600.0},
        "User": {"UserId": "user-111", "UserAttributes": {"FirstName": ["Maria"]}}}, "IN_APP")
    assert isinstance(second, ImportedRow) and second.line == 3 and second.endpoint_id == "222"
    assert "Address" not in first.request  # an empty cell is an absent member (IN_APP has none)


CSV_CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("every dotted member",
     "Id,ChannelType,Address,OptOut,EffectiveDate,EndpointStatus,RequestId,Demographic.Platform,"
     "Demographic.Timezone,Location.Country,Location.Latitude,Location.Longitude,Location.City",
     "e1,IN_APP,addr,NONE,2026-11-28T10:00:00.000Z,ACTIVE,r-1,ios,Europe/Paris,FR,48.8,2.3,Paris",
     {"ChannelType": "IN_APP", "Address": "addr", "OptOut": "NONE", "EffectiveDate": "2026-11-28T10:00:00.000Z",
      "EndpointStatus": "ACTIVE", "RequestId": "r-1",
      "Demographic": {"Platform": "ios", "Timezone": "Europe/Paris"},
      "Location": {"Country": "FR", "Latitude": 48.8, "Longitude": 2.3, "City": "Paris"}}),
    ("a repeated attribute column holds one value each (Pinpoint's multi-value form)",
     "Id,Attributes.interests,Attributes.interests,User.UserAttributes.plan,User.UserAttributes.plan",
     'e1,books,"music,jazz",gold,',
     {"Attributes": {"interests": ["books", "music,jazz"]}, "User": {"UserAttributes": {"plan": ["gold"]}}}),
    ("a quoted value keeps its comma and doubled quotes",
     'Id,Attributes.note', 'e1,"say ""hi"", then go"',
     {"Attributes": {"note": ['say "hi", then go']}}),
    ("spaces around names and values are dropped",
     " Id , User.UserId ", " e1 ,  u-1 ",
     {"User": {"UserId": "u-1"}}),
    ("metrics are numbers, integers included",
     "Id,Metrics.visits,Metrics.score", "e1,3,-0.5",
     {"Metrics": {"visits": 3.0, "score": -0.5}}),
    ("fewer cells than columns leave the rest absent",
     "Id,ChannelType,User.UserId", "e1,IN_APP",
     {"ChannelType": "IN_APP"}),
    ("an unknown column with an empty cell is harmless",
     "Id,Nickname", "e1,",
     {}),
]


@pytest.mark.parametrize(("case", "header", "line", "request_members"), CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_csv_rows(case: str, header: str, line: str, request_members: dict[str, Any]) -> None:
    row = only("CSV", f"{header}\n{line}\n")
    assert isinstance(row, ImportedRow), row
    assert (row.line, row.endpoint_id, row.request) == (2, "e1", request_members)


CSV_REJECTS: list[tuple[str, str, str, str]] = [
    ("missing Id", "Id,ChannelType", ",IN_APP", "Id: an endpoint id is required"),
    ("no Id column", "ChannelType,User.UserId", "IN_APP,u-1", "the header has no Id column"),
    ("unknown column with a value", "Id,Nickname", "e1,Bob", "unknown column 'Nickname' (value 'Bob') cannot be imported"),
    ("unknown demographic field", "Id,Demographic.Shoe", "e1,42", "unknown column 'Demographic.Shoe'"),
    ("repeated single-valued column", "Id,ChannelType,ChannelType", "e1,IN_APP,EMAIL", "column 'ChannelType' repeats"),
    ("metric that is not a number", "Id,Metrics.LastPurchaseValue", "e1,lots", "Metrics.LastPurchaseValue: 'lots' is not a number"),
    ("metric that is not finite", "Id,Metrics.x", "e1,nan", "Metrics.x: 'nan' is not a finite number"),
    ("latitude out of range", "Id,Location.Latitude", "e1,123", "Location.Latitude"),
    ("OptOut outside ALL/NONE", "Id,OptOut", "e1,SOME", "OptOut"),
    ("unknown channel", "Id,ChannelType", "e1,PIGEON", "ChannelType"),
    ("EffectiveDate not a date", "Id,EffectiveDate", "e1,yesterday", "EffectiveDate"),
    ("endpoint id with a forbidden character", "Id,ChannelType", "a/b,IN_APP", "Id: 'a/b' is not a valid endpoint id"),
    ("attribute value over 100 characters", "Id,Attributes.bio", "e1," + "x" * 101, "at most 100 characters"),
    ("more values than columns", "Id,ChannelType", "e1,IN_APP,extra", "3 values but the header has 2 columns"),
    ("unterminated quote (values may not span lines)", "Id,Attributes.a", 'e1,"open', "not valid CSV"),
]


@pytest.mark.parametrize(("case", "header", "line", "reason"), CSV_REJECTS, ids=[c[0] for c in CSV_REJECTS])
def test_csv_rejects_name_the_line_and_reason(case: str, header: str, line: str, reason: str) -> None:
    problem = only("CSV", f"{header}\n{line}\n")
    assert isinstance(problem, RowProblem), problem
    assert problem.line == 2
    assert reason in problem.reason


def test_bad_rows_never_stop_the_rest_and_keep_their_line_numbers() -> None:
    text = ("Id,ChannelType,Metrics.m\n"
            "a,IN_APP,1\n"
            ",IN_APP,2\n"        # line 3: no id
            "\n"                 # line 4: blank, skipped
            "c,IN_APP,three\n"   # line 5: bad metric
            "d,IN_APP,4\n")
    results = rows("CSV", text)
    assert [(type(r).__name__, r.line) for r in results] == [
        ("ImportedRow", 2), ("RowProblem", 3), ("RowProblem", 5), ("ImportedRow", 6)]
    assert results[2].endpoint_id == "c"  # a rejected row still names its endpoint


def test_a_non_in_app_channel_is_imported_with_a_notice() -> None:
    row = only("CSV", "Id,ChannelType,Address\ne1,EMAIL,a@example.com\n")
    assert isinstance(row, ImportedRow) and row.channel == "EMAIL"
    assert row.notice is not None and "only IN_APP endpoints receive in-app messages" in row.notice


def test_a_byte_order_mark_before_the_header_is_ignored() -> None:
    assert isinstance(only("CSV", "\ufeffId,ChannelType\ne1,IN_APP\n"), ImportedRow)


def test_header_columns_are_compiled_once() -> None:
    header = parse_csv_header("Id,Attributes.a,Attributes.a,Bogus")
    assert [c.kind for c in header.columns] == ["id", "attribute", "attribute", "bad"]
    assert header.problems == ()


JSON_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("the user guide's shape, with an Id",
     '{"Id":"e1","ChannelType":"IN_APP","Location":{"Country":"CA"},"Demographic":{"Platform":"Android","Make":"LG"},'
     '"User":{"UserId":"u-1","UserAttributes":{"Interests":["Music","Books"]}}}',
     {"ChannelType": "IN_APP", "Location": {"Country": "CA"}, "Demographic": {"Platform": "Android", "Make": "LG"},
      "User": {"UserId": "u-1", "UserAttributes": {"Interests": ["Music", "Books"]}}}),
    ("custom attributes as lists, metrics as numbers",
     '{"Id":"e1","Attributes":{"Ride":["Bus"]},"Metrics":{"rides":7}}',
     {"Attributes": {"Ride": ["Bus"]}, "Metrics": {"rides": 7.0}}),
]


@pytest.mark.parametrize(("case", "line", "request_members"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_json_rows(case: str, line: str, request_members: dict[str, Any]) -> None:
    row = only("JSON", line)
    assert isinstance(row, ImportedRow), row
    assert (row.line, row.endpoint_id, row.request) == (1, "e1", request_members)


JSON_REJECTS: list[tuple[str, str, str]] = [
    ("not JSON", '{"Id": "e1",', "not valid JSON"),
    ("not an object", '["e1"]', "not a JSON object"),
    ("missing Id", '{"ChannelType":"IN_APP"}', "Id: an endpoint id is required"),
    ("Id not a string", '{"Id": 7}', "Id: 7 is not a string"),
    ("unknown member", '{"Id":"e1","Nickname":"Bob"}', "unknown member Nickname cannot be imported"),
    ("unknown nested member", '{"Id":"e1","Demographic":{"Shoe":"42"}}', "Demographic.Shoe"),
    ("attribute not a list", '{"Id":"e1","Attributes":{"Ride":"Bus"}}', "Attributes.Ride"),
    ("metric not a number", '{"Id":"e1","Metrics":{"m":"x"}}', "Metrics.m"),
]


@pytest.mark.parametrize(("case", "line", "reason"), JSON_REJECTS, ids=[c[0] for c in JSON_REJECTS])
def test_json_rejects_name_the_line_and_reason(case: str, line: str, reason: str) -> None:
    results = rows("JSON", "\n" + line)  # line 1 blank (skipped): the problem is on line 2
    assert len(results) == 1 and isinstance(results[0], RowProblem), results
    assert results[0].line == 2
    assert reason in results[0].reason
