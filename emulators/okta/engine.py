"""The Okta emulator: admin actions change the directory and immediately become Okta's SCIM calls.

Okta is event-driven (docs/okta-idp.md §4-§7): each change to an assigned user or a pushed group
is sent at once as one or more tasks. Every method named after an admin action returns the tasks
it ran; failed tasks stay in ``tasks`` and can be retried, as in Okta's Tasks view (§8).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from emulators.core.clock import Clock, SystemClock
from emulators.core.directory import Directory, Status
from emulators.core.errors import ConfigurationError, DirectoryError
from emulators.core.linkstore import LinkStore
from emulators.core.mapping import AttributeMapping, CompiledMapping
from emulators.core.progress import ProgressCallback, ProgressMeter
from emulators.core.retry import RateLimitExhaustedError
from emulators.okta.default_mapping import OKTA_DEFAULT_MAPPING
from emulators.okta.expression import EvaluationError, compile_expression
from emulators.okta.groups import GroupFlows
from emulators.okta.payloads import placeholder_password
from emulators.okta.profile import OKTA_OIN, OktaProfile, OktaSettings
from emulators.okta.session import OktaSession, ScimCallError
from emulators.okta.tasks import Task, TaskError, TaskLog, TaskRunner, TaskStatus
from emulators.okta.users import UserFlows

# What fails a task instead of stopping the emulator: error answers, 429 exhaustion, network errors.
_LIST_FIELDS = frozenset({"totalResults", "totalresults", "Resources", "resources"})
TASK_FAILURES = (ScimCallError, RateLimitExhaustedError, TaskError, EvaluationError, DirectoryError, httpx.HTTPError)


@dataclass
class ImportMatch:
    """One imported app user and the Okta user it matches: ``exact`` by the matching rule, ``partial`` by first and
    last name only, ``none``; ``confirmed`` once linked (docs/okta-idp.md §3)."""

    scim_id: str
    user_name: str
    okta_user: str | None
    kind: str
    confirmed: bool = False


@dataclass
class ImportResult:
    """What an import read (docs/okta-idp.md §3): active users only, and groups when group import is on; and how
    each imported user matches an Okta user."""

    task: Task | None = None
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    scanned: int = 0
    matches: list[ImportMatch] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"exact": 0, "partial": 0, "none": 0, "confirmed": 0}
        for match in self.matches:
            out[match.kind] += 1
            out["confirmed"] += match.confirmed
        return out


class OktaEmulator:
    def __init__(
        self,
        directory: Directory,
        http: httpx.Client,
        profile: OktaProfile = OKTA_OIN,
        *,
        settings: OktaSettings | None = None,
        mapping: AttributeMapping | CompiledMapping = OKTA_DEFAULT_MAPPING,
        links: LinkStore | None = None,
        clock: Clock | None = None,
        tasks: TaskLog | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Compiles the mapping first, so a bad mapping raises ConfigurationError before any request.

        ``progress`` receives count, rate and ETA reports during the long operations (sync_all, force_sync).
        """
        if isinstance(mapping, AttributeMapping):
            mapping = mapping.compile(compile_expression, directory.known_attributes())
        self.directory = directory
        self.profile = profile
        self.settings = settings or OktaSettings()
        self.links = links or LinkStore()
        self.clock = clock or SystemClock()
        self.tasks = tasks or TaskLog()
        self.progress = progress
        self.session = OktaSession(http, profile, self.clock)
        self.users = UserFlows(self.session, directory, self.links, mapping, profile, self.settings)
        self.groups = GroupFlows(self.session, directory, self.links, self.users, profile, self.settings)
        self._passwords: dict[str, str] = {}
        # Okta passwords set through set_password: in memory only, never saved with the tasks or links
        self.credentials: dict[str, str] = {}
        self.users.create_password = lambda user_id: (
            self.credentials.get(user_id) if self.settings.sync_password else None
        )
        self.imported = ImportResult()
        handlers: dict[str, Callable[..., None]] = {
            "test_connection": self._test_connection,
            "import": self._import,
            "provision_user": self.users.provision,
            "push_profile": self.users.push_profile,
            "deprovision_user": self.users.deprovision,
            "activate_user": lambda user_id: self.users.set_active(user_id, True),
            "sync_password": lambda user_id: self.users.sync_password(
                user_id, self._passwords.pop(user_id, "") or placeholder_password()
            ),
            "create_push_group": self.groups.create,
            "link_push_group": self.groups.link,
            "push_membership": self.groups.push_delta,
            "push_now": self.groups.push_all,
            "rename_group": self.groups.rename,
            "delete_push_group": self.groups.delete,
        }
        self.runner = TaskRunner(self.tasks, handlers, self.clock, TASK_FAILURES)
        self.session.on_wait = self.runner.record_wait
        self._run = self.runner.run

    def retry(self, task_id: int) -> Task:
        """Run a task again from its first request, as Okta's Retry does.

        A provisioning that succeeds on retry also joins the user's pushed groups, exactly as a
        first-time success does; otherwise those memberships would wait for a Push Now.
        """
        task = self.tasks.get(task_id)
        self.runner.execute(task)
        if task.status is TaskStatus.DONE and task.action == "provision_user":
            self._join_pushed_groups([], str(task.args[0]))
        return task

    def retry_failed(self) -> list[Task]:
        return [self.retry(task.id) for task in self.tasks.failed()]

    # -- connection and import (§3) ---------------------------------------------------------------

    def test_connection(self) -> list[Task]:
        return [self._run("test_connection", "Test API credentials")]

    def _test_connection(self) -> None:
        # Okta reads the answer as a SCIM ListResponse (docs/okta-idp.md §3); an answer it cannot parse as one
        # (a login page, an empty body) fails the test (inferred: Okta shows an error, never success).
        checks = [("/Users", self.profile.connection_test_users)]
        if self.settings.import_groups:
            checks.append(("/Groups", self.profile.connection_test_groups))
        for endpoint, query in checks:
            answer = self.session.call("GET", endpoint, query=query)
            if not isinstance(answer, dict) or not _LIST_FIELDS & answer.keys():
                raise TaskError(f"GET {endpoint} did not answer a SCIM ListResponse (no totalResults, no Resources)")
            self.session.list_response(endpoint, answer)  # its schema and integer counts (§3)

    def import_users(self) -> ImportResult:
        """Import Now: page through /Users (and /Groups when group import is on); inactive users are skipped."""
        self.imported = ImportResult()
        self.imported.task = self._run("import", "Import users")
        return self.imported

    def confirm_import(self, *, partial: bool = False) -> list[ImportMatch]:
        """Confirm the last import's exact matches (and partial ones when ``partial``): each app user is linked to
        its Okta user, so later pushes update it instead of creating another (docs/okta-idp.md §3)."""
        confirmed = []
        for match in self.imported.matches:
            wanted = match.kind == "exact" or (partial and match.kind == "partial")
            if wanted and match.okta_user is not None and not match.confirmed:
                self.links.link("user", match.okta_user, match.scim_id)
                match.confirmed = True
                confirmed.append(match)
        return confirmed

    def _match(self, app_user: dict[str, Any]) -> ImportMatch:
        """Okta's User Creation & Matching: the exact rule (case sensitive, as Okta says of attribute matches), else
        a partial match on first and last name when allowed."""
        user_name = str(app_user.get("userName") or "")
        emails = [e for e in app_user.get("emails") or () if isinstance(e, dict)]
        email = next((e.get("value") for e in emails if e.get("primary")), emails[0].get("value") if emails else None)
        raw_name = app_user.get("name")
        name: dict[str, Any] = raw_name if isinstance(raw_name, dict) else {}
        for user in self.directory.users.values():
            if self.settings.import_match == "email":
                exact = email is not None and user.profile.get("email") == email
            else:
                exact = user.login == user_name
            if exact:
                return ImportMatch(str(app_user.get("id")), user_name, user.id, "exact")
        if self.settings.allow_partial_matches and name.get("givenName") and name.get("familyName"):
            for user in self.directory.users.values():
                if (user.profile.get("firstName"), user.profile.get("lastName")) == (
                    name.get("givenName"),
                    name.get("familyName"),
                ):
                    return ImportMatch(str(app_user.get("id")), user_name, user.id, "partial")
        return ImportMatch(str(app_user.get("id")), user_name, None, "none")

    def _import(self) -> None:
        read = self.session.read_all("/Users")
        self.imported.scanned = len(read)
        self.imported.users = [user for user in read if user.get("active") is not False]
        self.imported.matches = [self._match(user) for user in self.imported.users if user.get("id")]
        if self.settings.confirm_matched:
            self.confirm_import()
        if self.settings.import_groups:
            self.imported.groups = self.session.read_all("/Groups")
            self.tasks.app_groups = {
                str(group.get("id")): str(group.get("displayName")) for group in self.imported.groups if group.get("id")
            }

    # -- assignments and lifecycle (§4-§6) ------------------------------------------------------

    def _linked(self, user_id: str) -> bool:
        return self.links.scim_id("user", user_id) is not None

    def _provision(self, done: list[Task], user_id: str, *, join_groups: bool = True) -> None:
        """Create or link the app user when Okta would (§4), then push its pushed-group memberships (inferred)."""
        user = self.directory.user(user_id)
        if self._linked(user_id) or user.status is Status.DEPROVISIONED or not self.settings.create_users:
            return
        task = self._run("provision_user", f"Provision user {user.login}", user_id)
        done.append(task)
        if task.status is TaskStatus.DONE and join_groups:
            self._join_pushed_groups(done, user_id)

    def _join_pushed_groups(self, done: list[Task], user_id: str) -> None:
        """Add a newly provisioned user to the pushed groups it belongs to (inferred: docs/okta-idp.md §7)."""
        for group in self.directory.groups_of(user_id):
            if self._push_active(group.id):
                done.append(self._run("push_membership", f"Push group {group.name}", group.id, [user_id], []))

    def _deprovision(self, done: list[Task], user_id: str) -> None:
        if not self._linked(user_id):
            return
        if self.settings.deactivate_users:
            login = self.directory.users[user_id].login if user_id in self.directory.users else user_id
            done.append(self._run("deprovision_user", f"Deactivate user {login}", user_id))
        elif not self.directory.is_assigned(user_id):
            self.links.unlink("user", user_id)

    def provision_user(self, user_id: str) -> list[Task]:
        """ "Provision User" for an assigned user that is not in the app yet (§4.5)."""
        done: list[Task] = []
        if not self.directory.is_assigned(user_id):
            raise DirectoryError(f"user {user_id} is not assigned to the app; assign it first")
        self._provision(done, user_id)
        return done

    def assign_user(self, user_id: str) -> list[Task]:
        done: list[Task] = []
        self.directory.user(user_id)
        if user_id not in self.directory.app.users:
            self.directory.app.users.append(user_id)
        self._provision(done, user_id)
        return done

    def unassign_user(self, user_id: str) -> list[Task]:
        """Remove the direct assignment; the app user is deactivated if no group assigns it (§6)."""
        done: list[Task] = []
        if user_id in self.directory.app.users:
            self.directory.app.users.remove(user_id)
        if not self.directory.is_assigned(user_id):
            self._deprovision(done, user_id)
        return done

    def assign_group(self, group_id: str) -> list[Task]:
        """Group-based assignment: every member is provisioned (§4; Okta QA plan test C9307, §11c)."""
        done: list[Task] = []
        group = self.directory.group(group_id)
        if group_id in self.directory.app.push_groups:
            raise DirectoryError(f"group {group.name!r} is pushed; Okta cannot also assign it (§7)")
        if group_id not in self.directory.app.groups:
            self.directory.app.groups.append(group_id)
        for user_id in list(group.members):
            self._provision(done, user_id)
        return done

    def unassign_group(self, group_id: str) -> list[Task]:
        """Members left without an assignment are deactivated (§6; Okta QA plan test C9311, §11c)."""
        done: list[Task] = []
        group = self.directory.group(group_id)
        if group_id in self.directory.app.groups:
            self.directory.app.groups.remove(group_id)
        for user_id in list(group.members):
            if not self.directory.is_assigned(user_id):
                self._deprovision(done, user_id)
        return done

    def add_group_member(self, group_id: str, user_id: str) -> list[Task]:
        done: list[Task] = []
        group, _ = self.directory.group(group_id), self.directory.user(user_id)
        if user_id in group.members:
            return done
        group.members.append(user_id)
        if group_id in self.directory.app.groups:
            self._provision(done, user_id)
        elif self._push_active(group_id) and self._linked(user_id):
            done.append(self._run("push_membership", f"Push group {group.name}", group_id, [user_id], []))
        return done

    def remove_group_member(self, group_id: str, user_id: str) -> list[Task]:
        done: list[Task] = []
        group = self.directory.group(group_id)
        if user_id not in group.members:
            return done
        group.members.remove(user_id)
        if group_id in self.directory.app.groups and not self.directory.is_assigned(user_id):
            self._deprovision(done, user_id)
        elif self._push_active(group_id) and self._linked(user_id):
            done.append(self._run("push_membership", f"Push group {group.name}", group_id, [], [user_id]))
        return done

    def update_profile(self, user_id: str, changes: Mapping[str, Any]) -> list[Task]:
        """Change profile attributes (None removes one); a change to a mapped value is pushed (§5)."""
        done: list[Task] = []
        user = self.directory.user(user_id)
        unknown = sorted(set(changes) - self.directory.known_attributes())
        if unknown:
            raise DirectoryError(f"unknown profile attribute(s): {', '.join(unknown)}")
        if "login" in changes and not changes["login"]:
            raise DirectoryError("login cannot be empty")
        before = self.users.mapped(user)
        for name, value in changes.items():
            if value is None:
                user.profile.pop(name, None)
            else:
                user.profile[name] = value
        pushable = self._linked(user_id) and user.status is not Status.DEPROVISIONED
        if pushable and self.settings.update_users and self.users.mapped(user) != before:
            done.append(self._run("push_profile", f"Push profile of {user.login}", user_id))
        return done

    def deactivate_user(self, user_id: str) -> list[Task]:
        """Deactivate in Okta: the app user is deactivated and the direct assignment removed (§6)."""
        done: list[Task] = []
        user = self.directory.user(user_id)
        if user.status is Status.DEPROVISIONED:
            return done
        user.status = Status.DEPROVISIONED
        if user_id in self.directory.app.users:
            self.directory.app.users.remove(user_id)
        self._deprovision(done, user_id)
        return done

    def reactivate_user(self, user_id: str) -> list[Task]:
        """Reactivate in Okta: a still-linked app user is activated (§6); otherwise reassign it."""
        done: list[Task] = []
        user = self.directory.user(user_id)
        if user.status is not Status.DEPROVISIONED:
            return done
        user.status = Status.ACTIVE
        if self._linked(user_id):
            done.append(self._run("activate_user", f"Activate user {user.login}", user_id))
        elif self.directory.is_assigned(user_id):
            self._provision(done, user_id)
        return done

    def suspend_user(self, user_id: str) -> list[Task]:
        """Suspending sends nothing (docs/okta-idp.md §6, §10.11)."""
        user = self.directory.user(user_id)
        if user.status is Status.ACTIVE:
            user.status = Status.SUSPENDED
        return []

    def unsuspend_user(self, user_id: str) -> list[Task]:
        """Unsuspending sends nothing either: the app user never changed (§6; Okta QA plan test C9300, §11c)."""
        user = self.directory.user(user_id)
        if user.status is Status.SUSPENDED:
            user.status = Status.ACTIVE
        return []

    def delete_user(self, user_id: str) -> list[Task]:
        """Okta deactivates an active user before deleting it; the delete itself sends nothing (§6)."""
        done = self.deactivate_user(user_id)
        for group in self.directory.groups_of(user_id):
            group.members.remove(user_id)
        del self.directory.users[user_id]
        return done

    def set_password(self, user_id: str, password: str) -> list[Task]:
        """The user's Okta password changes. With password sync on, a provisioned user's app password follows at
        once and a later create sends it; with it off nothing is sent, and a create sends Okta's random placeholder
        (docs/okta-idp.md §4.3, §6)."""
        user = self.directory.user(user_id)
        if not password:
            raise DirectoryError("a password cannot be empty")
        self.credentials[user_id] = password
        if self.settings.sync_password and self._linked(user_id) and user.status is not Status.DEPROVISIONED:
            return self.sync_password(user_id, password)
        return []

    def sync_password(self, user_id: str, password: str | None = None) -> list[Task]:
        """Push a password (Okta's, or a random one when None); needs the password sync setting (§6)."""
        if not self.settings.sync_password:
            raise ConfigurationError("password sync is off in the app settings (OktaSettings.sync_password)")
        done: list[Task] = []
        user = self.directory.user(user_id)
        if password is not None:
            self._passwords[user_id] = password  # kept in memory only, never in the task log
        done.append(self._run("sync_password", f"Sync password of {user.login}", user_id))
        return done

    # -- group push (§7) ------------------------------------------------------------------------

    def _push_active(self, group_id: str) -> bool:
        linked = self.links.scim_id("group", group_id) is not None
        return linked and self.directory.app.push_groups.get(group_id, False)

    def push_group(self, group_id: str, *, link_to: str | None = None) -> list[Task]:
        """Push a group: create it in the app, or adopt the app group ``link_to`` (Link Group)."""
        group = self.directory.group(group_id)
        if group_id in self.directory.app.groups:
            raise DirectoryError(f"group {group.name!r} is assigned to the app; Okta cannot also push it (§7)")
        if link_to is not None and link_to not in self.tasks.app_groups:
            # Okta offers to link only the app groups it imported (docs/okta-idp.md §7, QA plan C9315/C9330)
            raise DirectoryError(
                f"Link Group {group.name!r}: {link_to} is not an app group Okta has imported; "
                "run an import with group import on first (aup sync --import-groups import)"
            )
        self.directory.app.push_groups[group_id] = True
        if link_to is not None:
            return [self._run("link_push_group", f"Link group {group.name}", group_id, link_to)]
        if self.links.scim_id("group", group_id) is None:
            return [self._run("create_push_group", f"Push group {group.name}", group_id)]
        return [self._run("push_now", f"Push Now {group.name}", group_id)]

    def _pushed(self, group_id: str) -> str:
        group = self.directory.group(group_id)
        if group_id not in self.directory.app.push_groups:
            raise DirectoryError(f"group {group.name!r} is not pushed; push it first")
        return group.name

    def push_now(self, group_id: str) -> list[Task]:
        """Push Now: overwrite the app group's members with Okta's list (§7; Okta QA plan test C9316, §11c)."""
        return [self._run("push_now", f"Push Now {self._pushed(group_id)}", group_id)]

    def rename_group(self, group_id: str, name: str) -> list[Task]:
        done: list[Task] = []
        if not name:
            raise DirectoryError("a group name cannot be empty")
        self.directory.group(group_id).name = name
        if self._push_active(group_id) and self.settings.rename_groups:
            done.append(self._run("rename_group", f"Rename group {name}", group_id))
        return done

    def unlink_group(self, group_id: str, *, delete: bool) -> list[Task]:
        """Stop pushing; delete the app group or leave it (leaving sends nothing) (§7)."""
        done: list[Task] = []
        name = self._pushed(group_id)
        del self.directory.app.push_groups[group_id]
        if delete and self.links.scim_id("group", group_id) is not None:
            done.append(self._run("delete_push_group", f"Delete group {name}", group_id))
        else:
            self.links.unlink("group", group_id)
        return done

    def deactivate_push(self, group_id: str) -> list[Task]:
        """Pause the push: nothing is sent now, and changes made meanwhile are not sent (§7, QA plan test C9319)."""
        self._pushed(group_id)
        self.directory.app.push_groups[group_id] = False
        return []

    def activate_push(self, group_id: str) -> list[Task]:
        """Resume the push, which re-pushes the full membership at once (§7; Okta QA plan test C9320, §11c)."""
        self._pushed(group_id)
        self.directory.app.push_groups[group_id] = True
        if self.links.scim_id("group", group_id) is None:
            return []
        return self.push_now(group_id)

    # -- bulk -----------------------------------------------------------------------------------

    def force_sync(self) -> list[Task]:
        """Re-push the mapped profile of every provisioned user; ``active`` never changes (§9)."""
        users = [
            user
            for user in self.directory.assigned_users()
            if self._linked(user.id) and user.status is not Status.DEPROVISIONED
        ]
        meter = ProgressMeter("users", len(users), self.progress)
        done: list[Task] = []
        for user in users:
            done.append(self._run("push_profile", f"Push profile of {user.login}", user.id))
            meter.step()
        meter.finish()
        return done

    def sync_all(self) -> list[Task]:
        """Bring the app to the directory's state by replaying the admin actions Okta would have sent:
        test the connection, deactivate users no longer assigned, provision assigned users, and
        push every active pushed group (create it, or Push Now when it is already linked).
        """
        done = self.test_connection()
        if done[-1].status is TaskStatus.FAILED:
            return done
        linked = list(self.links.links("user"))
        assigned = self.directory.assigned_users()
        pushed = [group_id for group_id, active in self.directory.app.push_groups.items() if active]
        meter = ProgressMeter("objects", len(linked) + len(assigned) + len(pushed), self.progress)
        for user_id in linked:
            user = self.directory.users.get(user_id)
            if user is None or user.status is Status.DEPROVISIONED or not self.directory.is_assigned(user_id):
                self._deprovision(done, user_id)
            meter.step()
        for user in assigned:
            self._provision(done, user.id, join_groups=False)
            meter.step()
        for group_id in pushed:
            done.extend(self.push_group(group_id))
            meter.step()
        meter.finish()
        return done
