"""Every function of Entra's expression language against the examples Microsoft's reference gives: the
expression, the input, and the output the documentation states (each case names its section of the page)."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulators.entra import datetimes
from emulators.entra.expression import ExpressionError, compile_expression
from emulators.entra.functions import CLOUD_SYNC_URL, FUNCTIONS, FUNCTIONS_URL, SPECIAL_CHARACTERS, EvaluationError


def ev(text: str, **attributes: object) -> object:
    return compile_expression(text).evaluate(attributes)


# (section of the reference, expression, input attributes, the documented output)
DOCUMENTED = [
    ("append", 'Append([userPrincipalName], ".test")', {"userPrincipalName": "John.Doe@contoso.com"},
     "John.Doe@contoso.com.test"),
    ("bitand", "BitAnd(&HF, &HF7)", {}, 7),
    ("cbool", "CBool([attribute1] = [attribute2])", {"attribute1": "x", "attribute2": "x"}, True),
    ("cdate", "CDate([StatusHireDate])", {"StatusHireDate": "2020-03-16-07:00"}, "3/16/2020 7:00:00 AM"),
    ("cdate", 'CDate("2021-06-30+08:00")', {}, "6/29/2021 4:00:00 PM"),
    ("cdate", 'CDate("2009-06-15T01:45:30-07:00")', {}, "6/15/2009 8:45:30 AM"),
    ("coalesce", "Coalesce([mail],[userPrincipalName])", {"userPrincipalName": "John.Doe@contoso.com"},
     "John.Doe@contoso.com"),
    ("converttobase64", 'ConvertToBase64("Hello world!")', {}, "SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
    ("converttoutf8hex", 'ConvertToUTF8Hex("Hello world!")', {}, "48656C6C6F20776F726C6421"),
    ("cstr", "CStr([dn])", {"dn": "cn=Joe,dc=contoso,dc=com"}, "cn=Joe,dc=contoso,dc=com"),
    ("dateadd", 'DateAdd("d", 7, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"},
     "3/23/2012 7:00:00 AM"),
    ("dateadd", 'DateAdd("d", -10, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"},
     "3/6/2012 7:00:00 AM"),
    ("dateadd", 'DateAdd("ww", 2, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"},
     "3/30/2012 7:00:00 AM"),
    ("dateadd", 'DateAdd("m", 10, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"},
     "1/16/2013 7:00:00 AM"),
    ("dateadd", 'DateAdd("yyyy", 2, CDate([StatusHireDate]))', {"StatusHireDate": "2012-03-16-07:00"},
     "3/16/2014 7:00:00 AM"),
    ("datediff", 'DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))', {}, 13),
    ("datediff", 'DateDiff("d", "8/25/2021 5:41:18 PM", CDate("2012-03-16-07:00"))', {}, -3449),
    ("datediff", 'DateDiff("ww", "8/25/2021 5:41:18 PM", CDate("2012-03-16-07:00"))', {}, -493),
    ("datediff", 'DateDiff("m", "8/25/2021 5:41:18 PM", CDate("2012-03-16-07:00"))', {}, -113),
    ("datediff", 'DateDiff("yyyy", "8/25/2021 5:41:18 PM", CDate("2012-03-16-07:00"))', {}, -9),
    ("datediff", 'DateDiff("d", CDate("2021-08-31+08:00"), CDate("2021-08-31+08:00"))', {}, 0),
    ("datediff", 'DateDiff("h", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 24),
    ("datediff", 'DateDiff("n", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 1440),
    ("datediff", 'DateDiff("s", CDate("2021-08-24"), CDate("2021-08-25"))', {}, 86400),
    ("datefromnum", "DateFromNum(129699324000000000)", {}, "1/1/2012 11:00:00 PM"),
    ("formatdatetime", 'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")',
     {"extensionAttribute1": "20150123105347.1Z"}, "2015-01-23"),
    ("ignoreflowifnullorempty", "IgnoreFlowIfNullOrEmpty([department])", {"department": ""}, None),
    ("ignoreflowifnullorempty",
     'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))',
     {"prefix": "9999"}, None),
    ("ignoreflowifnullorempty",
     'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))',
     {"prefix": "3444"}, "Prof."),
    ("iif", 'IIF([country]="USA",[country],[department])', {"country": "USA", "department": "R&D"}, "USA"),
    ("iif", 'IIF([country]="USA",[country],[department])', {"country": "FR", "department": "R&D"}, "R&D"),
    ("iif", 'IIF([country]="USA",IIF([state]="CA","True","False"),"False")', {"country": "USA", "state": "CA"},
     "True"),
    ("iif", 'IIF([country]="USA","True",IIF([state]="CA","True","False"))', {"country": "FR", "state": "CA"},
     "True"),
    ("iif", 'Switch([country],[country],"","Other")', {"country": ""}, "Other"),
    ("instr", 'InStr("The quick brown fox","quick")', {}, 5),
    ("instr", 'InStr("repEated","e",3,vbBinaryCompare)', {}, 7),
    ("isnull", "IsNull([displayName])", {}, True),
    ("isnullorempty", "IsNullOrEmpty([displayName])", {"displayName": ""}, True),
    ("isnullorempty", "IsNullOrEmpty([displayName])", {}, True),
    ("ispresent",
     "Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], "
     "IsPresent([director]),[director])", {"directManager": "m1"}, "m1"),
    ("item", "Item([proxyAddresses], 1)", {"proxyAddresses": ["smtp:a@x", "smtp:b@x"]}, "smtp:a@x"),
    ("left", 'Left("John Doe", 3)', {}, "Joh"),
    ("left", 'Left("John Doe", 0)', {}, ""),
    ("left", 'Left("John Doe", -1)', {}, "John Doe"),
    ("left", "Left([missing], 3)", {}, ""),
    ("left", 'Left("Jo", 3)', {}, "Jo"),
    ("normalizediacritics", "NormalizeDiacritics([givenName])", {"givenName": "Zoë"}, "Zoe"),
    ("pcase", "PCase([firstName])", {"firstName": "PABLO GONSALVES (SECOND)"}, "Pablo Gonsalves (Second)"),
    ("pcase", "PCase([lastName],\" '-\")", {"lastName": "PINTO-DE'SILVA"}, "Pinto-De'Silva"),
    ("pcase", 'PCase(Join(" ",[firstName],[lastName]))', {"firstName": "GREGORY", "lastName": "JAMES"},
     "Gregory James"),
    ("replace", 'Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )',
     {"BusinessTitle": "Product Developer"}, "Software Engineer"),
    ("replace", 'Replace([UserID],"<username>", , , , , "<username>@contoso.com")', {"UserID": "jsmith"},
     "jsmith@contoso.com"),
    ("replace", 'Replace([mobile], , "[()\\\\s-]+", , "", , )', {"mobile": "+1 (999) 888-7777"}, "+19998887777"),
    ("replace", 'Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', {"mailNickname": "john_doe72"}, "72"),
    ("selectuniquevalue-not-scim", None, {}, None),
    ("split", 'Split([extensionAttribute5], ",")', {"extensionAttribute5": "PermissionSetOne, PermissionSetTwo"},
     ["PermissionSetOne", "PermissionSetTwo"]),
    ("switch", 'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", '
     '"Australia/Adelaide")', {"state": "QLD"}, "Australia/Brisbane"),
    ("switch", 'Switch([statusFlag], "Default Value", "true", "1", "", "0")', {"statusFlag": ""}, "0"),
    ("tolower", 'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], '
     '[PreferredLastName]))), "contoso.com"))', {"PreferredFirstName": "John", "PreferredLastName": "Smith"},
     "john.smith@contoso.com"),
    ("word", 'Word("The quick brown fox",3," ")', {}, "brown"),
    ("word", 'Word("This,string!has&many separators",3,",!&#")', {}, "has"),
    ("examples", 'Replace([mail], "@contoso.com", , ,"", ,)', {"mail": "john.doe@contoso.com"}, "john.doe"),
    ("examples", "Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))", {"givenName": "John", "surname": "Doe"},
     "JohDoe"),
    ("examples", 'Join(", ", "", [surname], [givenName])', {"givenName": "John", "surname": "Doe"}, "Doe, John"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("section", "text", "attributes", "expected"),
    [case for case in DOCUMENTED if case[1] is not None],
    ids=[f"{case[0]}-{i}" for i, case in enumerate(DOCUMENTED) if case[1] is not None],
)
def test_the_documented_example_gives_the_documented_output(
    section: str, text: str, attributes: dict[str, object], expected: object
) -> None:
    assert ev(text, **attributes) == expected, f"{FUNCTIONS_URL}#{section}"


def test_the_regex_replacements_of_the_reference() -> None:
    """Replace's regex examples (#replace): .NET's named groups ``(?<name>...)`` and ``${name}`` references."""
    phone = r'Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )'
    assert ev(phone, telephoneNumber="+91 9998887777") == "9998887777"
    street = 'Replace([AddressLineData], ,"(?<streetNumber>^\\\\d*)","streetNumber", "888", , )'
    assert ev(street, AddressLineData="545 Tremont Street") == "888 Tremont Street"
    upn = 'Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )'
    assert ev(upn, userPrincipalName="jsmith@contoso.com") == "jsmith"
    fallback = (
        r'Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )'
    )
    assert ev(fallback, telephoneNumber="", mobile="+91 8887779999") == "8887779999"


def test_every_function_of_the_reference_is_known() -> None:
    """The reference's "List of Functions", and Trim from Cloud Sync's reference (CLOUD_SYNC_URL)."""
    listed = [
        "Append",
        "AppRoleAssignmentsComplex",
        "BitAnd",
        "CBool",
        "CDate",
        "Coalesce",
        "ConvertToBase64",
        "ConvertToUTF8Hex",
        "Count",
        "CStr",
        "DateAdd",
        "DateDiff",
        "DateFromNum",
        "FormatDateTime",
        "Guid",
        "IgnoreFlowIfNullOrEmpty",
        "IIF",
        "InStr",
        "IsNull",
        "IsNullOrEmpty",
        "IsPresent",
        "IsString",
        "Item",
        "Join",
        "Left",
        "Mid",
        "NormalizeDiacritics",
        "Not",
        "Now",
        "NumFromDate",
        "PCase",
        "RandomString",
        "Redact",
        "RemoveDuplicates",
        "Replace",
        "SelectUniqueValue",
        "SingleAppRoleAssignment",
        "Split",
        "StripSpaces",
        "Switch",
        "ToLower",
        "ToUpper",
        "Word",
    ]
    missing = [name for name in listed if name.lower() not in FUNCTIONS]
    assert missing == [], missing
    assert {"trim", "assertiveapproleassignmentscomplex"} <= set(FUNCTIONS) and CLOUD_SYNC_URL


def test_select_unique_value_is_refused_for_a_scim_app_at_compile_time() -> None:
    text = 'SelectUniqueValue(Join("@", [a], "contoso.com"), Join("@", [b], "contoso.com"))'
    with pytest.raises(ExpressionError, match="position 0: SelectUniqueValue cannot map to a SCIM app"):
        compile_expression(text)


def test_the_functions_without_a_fixed_output_keep_their_documented_shape() -> None:
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", str(ev("Guid()")))
    before = datetime.now(UTC).replace(microsecond=0)
    now = datetimes.parse(str(ev("Now()")))
    assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M", str(ev("Now()")))
    assert before <= now <= datetime.now(UTC)
    first = str(ev("RandomString(6,3,0,0,3)"))
    assert len(first) == 6 and sum(c.isdigit() for c in first) >= 3 and sum(c.islower() for c in first) >= 3
    second = str(ev('RandomString(10,2,2,2,1,"?,")'))
    assert len(second) == 10 and "?" not in second and "," not in second
    assert sum(c in SPECIAL_CHARACTERS for c in second) >= 2 and sum(c.isupper() for c in second) >= 2
    assert ev('Redact("StringToBeRedacted")') == "StringToBeRedacted"
    assert ev("RemoveDuplicates([p])", p=["a", "b", "a"]) == ["a", "b"]
    assert ev("Count([p])", p=["a", "b", "a"]) == 3
    assert ev("IsString([a])", a="x") is True and ev("IsString([a])", a=["x"]) is False
    assert ev("Trim([a])", a="  x y  ") == "x y"


def test_num_from_date_is_the_inverse_of_date_from_num() -> None:
    """#numfromdate's Workday example: the contract's last second in -08:00, as AD's accountExpires."""
    text = 'NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))'
    ticks = ev(text, ContractEndDate="2020-12-31-08:00")
    assert isinstance(ticks, int)
    assert ev("DateFromNum([t])", t=ticks) == "1/1/2021 7:59:59 AM"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('DateAdd("q", 1, "2021-01-01")', "interval 'q'"),
        ('CDate("yesterday")', "is not a date Entra reads"),
        ('FormatDateTime("2021", , "yyyy-MM-dd", "yyyy")', "does not have the format"),
        ("Item([p], 0)", "the index of the first item is 1"),
        ("RandomString(300,0,0,0,0)", "at most 256"),
        ('CBool("maybe")', "neither a number nor True or False"),
        ('IIF([a] > 5, "x", "y")', "compares a null value"),
    ],
)
def test_a_value_a_function_cannot_take_is_an_evaluation_error(text: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=re.escape(message)):
        ev(text, p=["a"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('Join(" ", [a], Frob([b]))', "position 15: unknown function Frob"),
        ("Append([a], Left([b]))", "position 12: Left takes"),
        ("Word([a], 1, [zz])", "position 13: unknown attribute [zz]"),
        ('IIF([a] => 1, "x", "y")', "position 9: expected a string, an [attribute] or a function"),
        ("Left([a], &Hz)", "position 10: unexpected character '&'"),
    ],
)
def test_errors_outside_the_language_name_their_position(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_expression(text, frozenset({"a", "b"}))


def test_comparison_operators_in_conditions() -> None:
    """IIF's comparison operators (#iif): numbers compare as numbers, text as text."""
    assert ev('IIF([n] >= 10, "big", "small")', n="9") == "small"
    assert ev('IIF([n] >= 10, "big", "small")', n="10") == "big"
    assert ev('IIF([c] <> "US", "abroad", "home")', c="US") == "home"
    assert ev('Switch([Active], , "1", IIF(DateDiff("d", "1/1/2021", CDate([h])) > 5, "False", "True"), "0", "False")',
              Active="1", h="2021-01-03") == "True"  # fmt: skip


# -- properties ----------------------------------------------------------------------------------------------

MOMENTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@settings(max_examples=200, deadline=None)
@given(MOMENTS)
def test_entra_date_text_reads_back_to_the_same_second(moment: datetime) -> None:
    assert datetimes.parse(datetimes.render(moment)) == moment.replace(microsecond=0)


@settings(max_examples=200, deadline=None)
@given(MOMENTS)
def test_filetime_round_trips(moment: datetime) -> None:
    assert datetimes.from_filetime(datetimes.to_filetime(moment)) == moment


@settings(max_examples=200, deadline=None)
@given(MOMENTS, st.sampled_from(["yyyy-MM-dd HH:mm:ss", "yyyyMMddHHmmss", "M/d/yyyy h:mm:ss tt", "dd.MM.yyyy'T'HH:mm"]))
def test_a_custom_format_writes_what_it_reads(moment: datetime, fmt: str) -> None:
    written = datetimes.format_exact(moment, fmt)
    assert datetimes.format_exact(datetimes.parse_exact(written, fmt), fmt) == written


@settings(max_examples=200, deadline=None)
@given(MOMENTS, MOMENTS)
def test_date_diff_is_antisymmetric(first: datetime, second: datetime) -> None:
    for interval in ("yyyy", "m", "d", "ww", "h", "n", "s"):
        assert datetimes.difference(interval, first, second) == -datetimes.difference(interval, second, first)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=string.ascii_letters + " -'(", max_size=30))
def test_pcase_changes_only_letter_case(text: str) -> None:
    result = ev("PCase([a])", a=text)
    assert isinstance(result, str) and result.lower() == text.lower()


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=2**40), st.integers(min_value=0, max_value=2**40))
def test_bit_and_of_hex_literals(a: int, b: int) -> None:
    assert ev(f"BitAnd(&H{a:X}, &H{b:x})") == a & b
