"""The Okta Expression Language against the examples of Okta's reference (OKTA_EL_URL): each expression with
the output the reference gives, section by section, and its samples of conditions and popular expressions."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.config import ServerConfig
from aup_server.store import open_store
from emulators.core.clock import FakeClock
from emulators.core.directory import AppAssignments, Directory, Group, User
from emulators.core.expected import differences
from emulators.core.mapping import MappingRule
from emulators.okta import OKTA_DEFAULT_MAPPING, OKTA_OIN, OktaEmulator, times
from emulators.okta.expected import expected_state
from emulators.okta.expression import OKTA_EL_URL, EvaluationError, ExpressionError, compile_expression, with_groups
from scimcore.client import IN_PROCESS_SCIM_URL, BearerAuth, make_http

KNOWN = frozenset(
    {"firstName", "lastName", "email", "login", "middleInitial", "city", "salary", "isContractor", "groupCode"}
)
WINSTON = {  # the reference's "Popular Expressions" sample user
    "firstName": "Winston",
    "lastName": "Churchill",
    "email": "winston.churchill@gmail.com",
    "login": "winston.churchill@gmail.com",
}


def ev(source: str, attributes: dict[str, Any] | None = None) -> Any:
    return compile_expression(source, KNOWN).evaluate(attributes or {})


DOCUMENTED = [
    # String Functions
    ('String.append("This is", " a test")', "This is a test"),
    ('String.join(",", "This", "is", "a", "test")', "This,is,a,test"),
    ('String.join("", "This", "is", "a", "test")', "Thisisatest"),
    ('String.len("This")', 4),
    ('String.removeSpaces("This is a test")', "Thisisatest"),
    ('String.replace("This is a test", "is", "at")', "That at a test"),
    ('String.replaceFirst("This is a test", "is", "at")', "That is a test"),
    ('String.stringContains("This is a test", "test")', True),
    ('String.stringContains("This is a test", "doesn\'tExist")', False),
    ('String.stringSwitch("This is a test", "default", "key1", "value1")', "default"),
    ('String.stringSwitch("This is a test", "default", "test", "value1")', "value1"),
    ('String.stringSwitch("First match wins", "default", "absent", "value1", "wins", "value2", "match", "value3")',
     "value2"),
    ('String.stringSwitch("Substrings count", "default", "ring", "value1")', "value1"),
    ('String.substring("This is a test", 2, 9)', "is is a"),
    ('String.substringAfter("abc@okta.com", "@")', "okta.com"),
    ('String.substringBefore("abc@okta.com", "@")', "abc"),
    ('String.toUpperCase("This")', "THIS"),
    ('String.toLowerCase("ThiS")', "this"),
    # the deprecated forms
    ("toUpperCase(user.firstName)", "ALEXANDER", {"firstName": "Alexander"}),
    ("toLowerCase(user.firstName)", "alexander", {"firstName": "AlexANDER"}),
    ("substringBefore(user.email, '@')", "alex", {"email": "alex@okta.com"}),
    ("substringAfter(user.email, '@')", "okta.com", {"email": "alex@okta.com"}),
    ("substring(user.firstName, 1, 4)", "lex", {"firstName": "Alexander"}),
    # Array Functions
    ("Arrays.add({10, 20, 30}, 40)", [10, 20, 30, 40]),
    ("Arrays.remove({10, 20, 30}, 20)", [10, 30]),
    ("Arrays.clear({10, 20, 30})", []),
    ("Arrays.get({0, 1, 2}, 0)", 0),
    ("Arrays.flatten(10, {20, 30}, 40)", [10, 20, 30, 40]),
    ("Arrays.contains({10, 20, 30}, 10)", True),
    ("Arrays.contains({10, 20, 30}, 50)", False),
    ("Arrays.size({10, 20, 30})", 3),
    ("Arrays.size(NULL)", 0),
    ("Arrays.isEmpty({10, 20})", False),
    ("Arrays.isEmpty(NULL)", True),
    ('Arrays.toCsvString({"This", "is", " a ", "test"})', "This,is, a ,test"),
    # Data Conversion Functions
    ("Convert.toInt('1234')", 1234),
    ("Convert.toInt(123.4)", 123),
    ("Convert.toInt(123.6)", 124),
    ("Convert.toNum('3.141')", 3.141),
    # Country Code Conversion Functions
    ('Iso3166Convert.toAlpha2("IND")', "IN"),
    ('Iso3166Convert.toAlpha3("840")', "USA"),
    ('Iso3166Convert.toNumeric("USA")', "840"),
    ('Iso3166Convert.toName("IN")', "India"),
    # Constants and Operators
    ("'Hello world'", "Hello world"),
    ("1234", 1234),
    ("3.141", 3.141),
    ("true", True),
    ("user.groupCode == 123 ? 'Sales' : 'Other'", "Sales", {"groupCode": 123}),
    ("user.groupCode == 123 ? 'Sales' : 'Other'", "Other", {"groupCode": 7}),
    # Conditional Expressions: the group-rule samples
    ('String.stringContains(user.firstName, "dummy")', True, {"firstName": "a dummy user"}),
    ('user.city == "San Francisco"', True, {"city": "San Francisco"}),
    ("user.salary >= 1000000", True, {"salary": 1000000}),
    ("!user.isContractor", True, {"isContractor": False}),
    ("user.salary > 1000000 AND !user.isContractor", False, {"salary": 1000000, "isContractor": False}),
    ("user.salary > 1000000 AND !user.isContractor", True, {"salary": 1000001, "isContractor": False}),
    # Popular Expressions (Winston Churchill)
    ("user.firstName + user.lastName", "WinstonChurchill", WINSTON),
    ('user.firstName + "." + user.lastName', "Winston.Churchill", WINSTON),
    ("substring(user.firstName, 0, 1) + user.lastName", "WChurchill", WINSTON),
    ("substring(user.firstName, 0, 1) + substring(user.lastName, 0, 6)", "WChurch", WINSTON),
    ('toUpperCase(substringBefore( substringAfter(user.email, "@"), ".")) + "\\" + substringBefore( user.email, "@")',
     "GMAIL\\winston.churchill", WINSTON),
    ('toUpperCase(substringBefore( substringAfter(user.email, "@"), ".")) + "\\" + '
     'toLowerCase(substring( user.firstName, 0, 1)) + toLowerCase(user.lastName)', "GMAIL\\wchurchill", WINSTON),
    ('"XDOMAIN\\" + toLowerCase(substring( user.firstName, 0, 1)) + toLowerCase(user.lastName)',
     "XDOMAIN\\wchurchill", WINSTON),
]  # fmt: skip


@pytest.mark.parametrize("case", DOCUMENTED, ids=[case[0][:60] for case in DOCUMENTED])
def test_the_documented_example_gives_the_documented_output(case: tuple[Any, ...]) -> None:
    source, expected, *attributes = case
    assert ev(source, attributes[0] if attributes else None) == expected, OKTA_EL_URL


def test_the_profile_mapping_samples_of_conditional_expressions() -> None:
    """Okta's samples: the middle initial with a period when there is one (OKTA_EL_URL, Samples)."""
    source = (
        'user.firstName + " " + (String.len(user.middleInitial) == 0 ? "" : '
        '(String.substring(user.middleInitial, 0, 1) + ". ")) + user.lastName'
    )
    assert ev(source, {"firstName": "Ann", "middleInitial": "Beth", "lastName": "Lee"}) == "Ann B. Lee"
    assert ev(source, {"firstName": "Ann", "middleInitial": "", "lastName": "Lee"}) == "Ann Lee"
    assert ev(source, {"firstName": "Ann", "lastName": "Lee"}) == "Ann Lee", "an absent initial has length 0"


def test_arithmetic_as_okta_help_writes_it() -> None:
    """help.okta.com's smart-card examples take the last 20 characters with String.len(x)-20."""
    source = "String.substring(user.login, String.len(user.login)-20, String.len(user.login))"
    assert ev(source, WINSTON) == "n.churchill@gmail.com"[-20:] == WINSTON["login"][-20:]
    assert ev("1 + 2 - 4") == -1 and ev("'a' + 1") == "a1"


def test_string_functions_map_over_an_array() -> None:
    """support.okta.com applies String.replace to a list of group names."""
    assert ev('String.replace({"SSO-a", "SSO-b"}, "SSO-", "")') == ["a", "b"]


@pytest.mark.parametrize(
    ("source", "error", "message"),
    [
        ("String.substring('abc', 2, 9)", EvaluationError, "outside the text"),
        ("Convert.toInt('12x')", EvaluationError, "is not a whole number"),
        ("Iso3166Convert.toName('XQZ')", EvaluationError, "is not an ISO 3166-1 country code"),
        ("user.salary > 5", EvaluationError, "cannot be compared"),
        ("'a' - 1", EvaluationError, "'-' takes two numbers"),
        ("user.salary > ", ExpressionError, "expected a value at column 15"),
        ("{1, 2", ExpressionError, "expected '}'"),
        ("Arrays.size({1}) ? 'a' : 'b'", ExpressionError, "is used as a condition but is not a boolean"),
    ],
)
def test_what_okta_refuses(source: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        ev(source)


def test_the_group_functions_read_the_users_groups() -> None:
    """The reference's Group Functions, on a user in "San Francisco admins" (id 00g1) and "Engineering" (00g2)."""
    groups = [("00g1", "San Francisco admins"), ("00g2", "Engineering")]
    context = with_groups({}, lambda: groups)
    cases = {
        'isMemberOfGroupName("Engineering")': True,
        'isMemberOfGroupName("engineering")': False,
        'isMemberOfGroup("00g2")': True,
        'isMemberOfAnyGroup("00g9", "00g1")': True,
        'isMemberOfAnyGroup("00g9")': False,
        'isMemberOfGroupNameStartsWith("San Fr")': True,
        'isMemberOfGroupNameContains("admin")': True,
        'isMemberOfGroupNameRegex("/.*admin.*")': True,
        'isMemberOfGroupNameRegex("/^admin$")': False,
        'getFilteredGroups({"00g2", "00g9"}, "group.name", 40)': ["Engineering"],
        'isMemberOfGroupName("Engineering") ? "eng" : "other"': "eng",
    }
    for source, expected in cases.items():
        assert compile_expression(source, KNOWN).evaluate(context) == expected, source
    with pytest.raises(ExpressionError, match="only with group claims"):
        compile_expression('Groups.startsWith("active_directory", "admin", 10)', KNOWN)


def test_a_mapping_with_a_group_function_provisions_what_the_groups_say() -> None:
    """End to end: Okta pushes title from isMemberOfGroupName, and the expected state agrees."""
    store = open_store(ServerConfig())
    http = make_http(create_app(store=store), BearerAuth(issue_token(store, "g")), base_url=IN_PROCESS_SCIM_URL)
    users = {
        uid: User(uid, {"login": f"{uid}@x.test", "email": f"{uid}@x.test", "firstName": uid, "lastName": "L"})
        for uid in ("ann", "ben")
    }
    directory = Directory(users, {"adm": Group("adm", "Admins", members=["ann"])}, AppAssignments(users=["ann", "ben"]))
    rule = MappingRule("title", 'isMemberOfGroupName("Admins") ? "Administrator" : "Member"')
    mapping = OKTA_DEFAULT_MAPPING.merged([rule])
    okta = OktaEmulator(directory, http, OKTA_OIN, mapping=mapping, clock=FakeClock())
    for uid in users:
        okta.assign_user(uid)
    titles = {u["userName"]: u.get("title") for u in http.get("/Users").json()["Resources"]}
    assert titles == {"ann@x.test": "Administrator", "ben@x.test": "Member"}
    found = http.get("/Users").json()["Resources"]
    assert differences(expected_state(directory, okta.users.mapping), found, []) == []
    http.close()
    store.close()


def test_the_time_functions() -> None:
    """The reference's Time Functions: Time.now's three documented forms have the documented shapes (UTC with Z, a
    zone's offset, a Joda pattern), and the conversions agree with each other and with known instants."""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", ev("Time.now()"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[45]:00", ev('Time.now("EST")'))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ev('Time.now("EST", "YYYY-MM-dd HH:mm:ss")'))
    assert ev('Time.fromUnixToIso8601("0")') == "1970-01-01T00:00:00.000Z"
    assert ev('Time.fromIso8601ToUnix("2015-07-31T17:18:37.979Z")') == "1438363117"
    assert ev('Time.fromWindowsToIso8601("129699324000000000")') == "2012-01-01T23:00:00.000Z"
    assert ev('Time.fromIso8601ToWindows("2012-01-01T23:00:00.000Z")') == "129699324000000000"
    assert ev('Time.fromStringToIso8601("31/07/2015 17:18", "dd/MM/YYYY HH:mm")') == "2015-07-31T17:18:00.000Z"
    assert ev('Time.fromIso8601ToString("2015-07-31T17:18:37.979-04:00", "YYYY-MM-dd HH:mm ZZ")') == (
        "2015-07-31 17:18 -04:00"
    )
    with pytest.raises(EvaluationError, match="unknown time zone"):
        ev('Time.now("Mars/Olympus")')
    with pytest.raises(EvaluationError, match="does not have the pattern"):
        ev('Time.fromStringToIso8601("2015", "dd/MM/YYYY")')


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(["YYYY-MM-dd HH:mm:ss.SSS ZZ", "dd/MM/yyyy hh:mm:ss a Z", "yyyyMMdd'T'HHmmss.SSS"]),
)
def test_a_joda_pattern_reads_back_what_it_writes(moment: datetime, pattern: str) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000 if "SSS" in pattern else 0)
    assert times.parse_joda(times.format_joda(moment, pattern), pattern) == moment
    assert times.parse_iso(times.iso(moment)) == moment


def test_get_manager_user_reads_the_managers_okta_attributes() -> None:
    """The reference's getManagerUser("active_directory").firstName, on the directory's manager relation."""
    source = 'getManagerUser("active_directory").firstName'
    manager = {"firstName": "Grace", "lastName": "Hopper"}
    assert compile_expression(source, KNOWN).evaluate(with_groups({}, list, lambda: manager)) == "Grace"
    assert compile_expression(source, KNOWN).evaluate(with_groups({}, list)) is None, "no manager: null"
    cases = {
        'getManagerUser("google").firstName': "Okta reads managers from active_directory only",
        'getManagerUser("active_directory").shoeSize': "unknown attribute shoeSize of getManagerUser",
        'getManagerUser("active_directory")': "expected '.'",
    }
    for bad, message in cases.items():
        with pytest.raises(ExpressionError, match=message):
            compile_expression(bad, KNOWN)


def test_a_mapping_with_the_manager_function_pushes_the_managers_name() -> None:
    store = open_store(ServerConfig())
    http = make_http(create_app(store=store), BearerAuth(issue_token(store, "m")), base_url=IN_PROCESS_SCIM_URL)
    boss = User("boss", {"login": "boss@x.test", "email": "boss@x.test", "firstName": "Grace", "lastName": "H"})
    ann = User("ann", {"login": "ann@x.test", "email": "ann@x.test", "firstName": "Ann", "lastName": "L",
                       "managerId": "boss@x.test"})  # fmt: skip
    directory = Directory({"boss": boss, "ann": ann}, {}, AppAssignments(users=["ann"]))
    rule = MappingRule("nickName", 'getManagerUser("active_directory").firstName + "\'s report"')
    okta = OktaEmulator(directory, http, OKTA_OIN, mapping=OKTA_DEFAULT_MAPPING.merged([rule]), clock=FakeClock())
    okta.assign_user("ann")
    [found] = http.get("/Users").json()["Resources"]
    assert found["nickName"] == "Grace's report"
    assert differences(expected_state(directory, okta.users.mapping), [found], []) == []
    http.close()
    store.close()


def test_the_linked_object_and_directory_functions() -> None:
    """The reference's Linked Object Function (its example result "Gates") and its Popular Expressions for Workday
    and Active Directory, which are null in an org whose only source is the directory file (no such integration)."""
    context = with_groups({}, list, lambda: {"firstName": "Bill", "lastName": "Gates"})
    assert compile_expression('user.getLinkedObject("manager").lastName', KNOWN).evaluate(context) == "Gates"
    assert compile_expression('user.getLinkedObject("mentor").lastName', KNOWN).evaluate(context) is None
    for source in (
        "hasWorkdayUser() ? findWorkdayUser().employeeID : null",
        "hasDirectoryUser() ? findDirectoryUser().managerUpn : null",
    ):
        assert compile_expression(source, KNOWN).evaluate(context) is None, source
    assert compile_expression("hasDirectoryUser()", KNOWN).evaluate(context) is False
