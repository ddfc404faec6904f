"""Seeded, realistic directories: unicode names, logins that differ only by case, large groups.

The same seed gives the same directory for a given Faker version. The app is assigned to one
large "All Staff" group plus some direct assignments; the other groups are pushed, because Okta
does not allow one group to be both assigned and pushed (docs/okta-idp.md §7).
"""

from __future__ import annotations

import base64
import random
import string
import struct
import unicodedata

from faker import Faker

from emulators.core.directory import AppAssignments, Directory, Group, Status, User

# (Faker locale, weight): mostly English, with scripts and diacritics a server must round-trip.
LOCALES: tuple[tuple[str, int], ...] = (
    ("en_US", 40),
    ("en_GB", 8),
    ("de_DE", 8),
    ("fr_FR", 8),
    ("es_ES", 6),
    ("pt_BR", 6),
    ("pl_PL", 4),
    ("cs_CZ", 3),
    ("tr_TR", 3),
    ("el_GR", 3),
    ("ru_RU", 3),
    ("ja_JP", 3),
    ("zh_CN", 3),
)
DEPARTMENTS = ("Engineering", "Sales", "Marketing", "Finance", "Support", "Research", "Legal", "Operations")
EXTRA_GROUP_NAMES = ("SRE on-call", "Équipe Paris", "開発チーム", "Data Science", "Security", "GPU Cluster Users")
ALL_STAFF = "All Staff"
SSH_KEY_ATTRIBUTE = "sshPublicKeys"
_ID_CHARS = string.ascii_letters + string.digits


def okta_id(prefix: str, rng: random.Random) -> str:
    """An Okta-style object id: a 3-character type prefix (``00u`` user, ``00g`` group) and 17 more."""
    return prefix + "".join(rng.choice(_ID_CHARS) for _ in range(17))


# Letters that Unicode does not decompose into a base letter and a mark.
_TRANSLITERATE = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D", "æ": "ae", "œ": "oe", "\u0131": "i"}
)


def _ascii(text: str) -> str:
    """A login-safe ASCII form of a name; empty for scripts without Latin letters."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE)).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _ssh_key(rng: random.Random, comment: str) -> str:
    """A well-formed ``ssh-ed25519`` public key line with random key bytes."""
    kind = b"ssh-ed25519"
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", 32) + rng.randbytes(32)
    return f"ssh-ed25519 {base64.b64encode(blob).decode('ascii')} {comment}"


class _UserFactory:
    def __init__(self, rng: random.Random, seed: int, domain: str) -> None:
        self.rng = rng
        self.domain = domain
        self.fakers = {locale: Faker(locale) for locale, _ in LOCALES}
        for offset, fake in enumerate(self.fakers.values()):
            fake.seed_instance(seed * 100 + offset)
        self.logins: set[str] = set()

    def make(self, number: int) -> User:
        locale = self.rng.choices([loc for loc, _ in LOCALES], weights=[w for _, w in LOCALES])[0]
        fake = self.fakers[locale]
        first, last = fake.first_name(), fake.last_name()
        local = ".".join(part for part in (_ascii(first), _ascii(last)) if part) or f"user{number:05d}"
        login, suffix = f"{local}@{self.domain}", 1
        while login.lower() in self.logins:
            suffix += 1
            login = f"{local}{suffix}@{self.domain}"
        self.logins.add(login.lower())
        profile = {
            "login": login,
            "email": login,
            "firstName": first,
            "lastName": last,
            "displayName": f"{first} {last}",
            "title": fake.job(),
            "department": self.rng.choice(DEPARTMENTS),
            "employeeNumber": str(100000 + number),
            "mobilePhone": fake.phone_number(),
            "locale": locale.replace("_", "-"),
            SSH_KEY_ATTRIBUTE: [_ssh_key(self.rng, f"{local}@laptop") for _ in range(self.rng.choice((0, 1, 1, 2)))],
        }
        status = self.rng.choices(list(Status), weights=(90, 6, 4))[0]
        return User(id=okta_id("00u", self.rng), profile=profile, status=status)


def _case_twin(user: User, rng: random.Random) -> User:
    """Another user whose login differs from ``user``'s only by letter case."""
    local, _, domain = user.login.partition("@")
    twin_login = ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.upper()
    profile = {**user.profile, "login": twin_login, "email": twin_login, SSH_KEY_ATTRIBUTE: []}
    profile["employeeNumber"] = str(int(user.profile["employeeNumber"]) + 500000)
    return User(id=okta_id("00u", rng), profile=profile, status=Status.ACTIVE)


def generate_directory(
    users: int, groups: int, seed: int, *, domain: str = "example.com", case_duplicates: int | None = None
) -> Directory:
    """A directory of ``users`` users and ``groups`` groups; ``case_duplicates`` defaults to users // 50."""
    if users < 0 or groups < 0:
        raise ValueError("users and groups must not be negative")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    twins = users // 50 if case_duplicates is None else min(case_duplicates, users // 2)
    factory = _UserFactory(rng, seed, domain)
    people = [factory.make(number) for number in range(users - twins)]
    people += [_case_twin(people[i], rng) for i in rng.sample(range(len(people)), twins)] if twins else []
    for number, user in enumerate(people[1:], start=1):
        user.profile["manager"] = people[rng.randrange(0, number)].login
    directory = Directory(users={user.id: user for user in people}, custom_attributes=(SSH_KEY_ATTRIBUTE,))
    directory.groups = _make_groups(people, groups, rng)
    directory.app = _assign(people, list(directory.groups.values()), rng)
    return directory


def _make_groups(people: list[User], count: int, rng: random.Random) -> dict[str, Group]:
    if count == 0:
        return {}
    ids = [user.id for user in people]
    position = {uid: index for index, uid in enumerate(ids)}
    # About one in ten people is a contractor outside All Staff: the large group, assigned to the app.
    staff = [uid for uid in ids if rng.random() < 0.9]
    made = [Group(okta_id("00g", rng), ALL_STAFF, "Every employee", staff)]
    names = [*DEPARTMENTS, *EXTRA_GROUP_NAMES]
    for number in range(1, count):
        name = names[number - 1] if number <= len(names) else f"Team {number:04d}"
        if name in DEPARTMENTS:
            members = [user.id for user in people if user.profile.get("department") == name]
        else:
            size = min(len(ids), int(rng.paretovariate(1.2) * 3))
            members = sorted(rng.sample(ids, size), key=position.__getitem__)
        made.append(Group(okta_id("00g", rng), name, f"{name} group", members))
    return {group.id: group for group in made}


def _assign(people: list[User], groups: list[Group], rng: random.Random) -> AppAssignments:
    if not groups:
        return AppAssignments(users=[user.id for user in people])
    staff = set(groups[0].members)
    contractors = [user.id for user in people if user.id not in staff]
    direct = [uid for uid in contractors if rng.random() < 0.5]
    return AppAssignments(users=direct, groups=[groups[0].id], push_groups={group.id: True for group in groups[1:]})
