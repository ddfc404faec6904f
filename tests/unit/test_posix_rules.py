"""The pure POSIX rules: username derivation and SSH key validation (aup_server/posix.py)."""

from __future__ import annotations

import base64
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aup_server.config import ServerConfig
from aup_server.posix import (
    MAX_USERNAME,
    SSH_KEY_TYPES,
    USERNAME_RE,
    derive_username,
    is_reserved,
    parse_ssh_key,
)


def ssh_key(kind: str, material: bytes, comment: str = "") -> str:
    """A public key line whose blob is ``string kind, string material`` (RFC 4253 §6.6 framing)."""
    blob = struct.pack(">I", len(kind)) + kind.encode() + struct.pack(">I", len(material)) + material
    line = f"{kind} {base64.b64encode(blob).decode()}"
    return f"{line} {comment}" if comment else line


@pytest.mark.parametrize(
    ("user_name", "expected"),
    [
        ("Ann.Lee@example.com", "ann-lee"),
        ("CONTOSO\\Bob", "bob"),
        ("josé.núñez@example.es", "jose-nunez"),
        ("Łukasz Żółć@pl.example", "lukasz-zolc"),
        ("bob_contoso.com#EXT#@fabrikam.onmicrosoft.com", "bob_contoso-com-ext"),
        ("42nd.street@x.test", "_42nd-street"),
        ("a" * 40 + "@x.test", "a" * MAX_USERNAME),
        ("_svc-build@x.test", "_svc-build"),
    ],
)
def test_username_examples(user_name: str, expected: str) -> None:
    assert derive_username(user_name) == expected


@pytest.mark.parametrize("user_name", ["张伟@example.cn", "@example.com", "---", "   "])
def test_a_username_with_nothing_usable_is_refused(user_name: str) -> None:
    with pytest.raises(ValueError, match="POSIX username"):
        derive_username(user_name)


@given(st.text(max_size=80))
def test_derived_usernames_are_valid_posix_names_and_idempotent(user_name: str) -> None:
    try:
        name = derive_username(user_name)
    except ValueError:
        return
    assert USERNAME_RE.match(name), name
    assert len(name) <= MAX_USERNAME
    assert not name.endswith("-")
    assert derive_username(name) == name  # a derived name derives to itself
    assert derive_username(user_name) == name  # deterministic


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=60))
def test_ascii_usernames_ignore_case_like_username_uniqueness(user_name: str) -> None:
    """userName is unique case-insensitively (RFC 7643 §4.1), so case twins must derive the same name."""
    try:
        lower = derive_username(user_name.lower())
    except ValueError:
        with pytest.raises(ValueError):
            derive_username(user_name.upper())
        return
    assert derive_username(user_name.upper()) == lower


def test_system_accounts_are_reserved() -> None:
    assert is_reserved("root") and is_reserved("systemd-network") and is_reserved("slurm")
    assert not is_reserved("rootless") and not is_reserved("ann")


@given(
    st.sampled_from(sorted(SSH_KEY_TYPES)),
    st.binary(min_size=1, max_size=600),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789@.-_ ", max_size=30),
)
def test_well_formed_keys_are_accepted_in_one_space_form(kind: str, material: bytes, comment: str) -> None:
    line = ssh_key(kind, material, comment.strip())
    assert parse_ssh_key(f"  {line}\t") == " ".join(line.split(" ", 2))


@given(st.sampled_from(sorted(SSH_KEY_TYPES)), st.binary(min_size=1, max_size=100), st.integers(0, 200))
def test_a_damaged_blob_is_refused(kind: str, material: bytes, cut: int) -> None:
    kind_, blob = ssh_key(kind, material).split(" ")
    damaged = blob[: cut % len(blob)] + "!" + blob[cut % len(blob) :]
    with pytest.raises(ValueError, match="base64"):
        parse_ssh_key(f"{kind_} {damaged}")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "empty"),
        ("ssh-dss " + ssh_key("ssh-dss", b"k").split(" ")[1], "not accepted"),
        ('command="/bin/sh" ' + ssh_key("ssh-ed25519", b"k" * 32), "options"),
        ("ssh-ed25519", "no key data"),
        ("ssh-rsa " + ssh_key("ssh-ed25519", b"k" * 32).split(" ")[1], "embedded type"),
        ("ssh-ed25519 AAAA", "embedded type"),
        (ssh_key("ssh-ed25519", b"k" * 32) + " ann@laptop\nssh-rsa x", "control character"),
        (ssh_key("ssh-ed25519", b"k" * 32, "ann:laptop"), "sshkey.cache"),
        (ssh_key("ssh-ed25519", b"k" * 32, "it's"), "sshkey.cache"),
    ],
)
def test_bad_keys_are_refused_with_a_reason(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ssh_key(line)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"posix_uid_range": [20000, 10000]}, "first <= last"),
        ({"posix_uid_range": [10000, 60000]}, "overlap"),
        ({"posix_gid_range": [0, 5]}, "1 <= first"),
        ({"posix_home": "home"}, "absolute"),
        ({"posix_shell": "/bin/ba:sh"}, "absolute path without ':'"),
        ({"posix_ssh_keys_from": "sshKeys"}, "extension schema URN"),
    ],
)
def test_bad_posix_settings_are_refused(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerConfig.from_mapping(settings)


def test_ranges_from_yaml_lists_become_tuples() -> None:
    config = ServerConfig.from_mapping({"posix_uid_range": [1000, 1999], "posix_gid_range": [2000, 2999]})
    assert config.posix_uid_range == (1000, 1999)
