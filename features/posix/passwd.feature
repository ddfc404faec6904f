@posix
Feature: IdP users become POSIX accounts a cluster reads through nsscache
  A user the IdP provisions gets a uid from the service provider once, tied to its SCIM id: the
  uid stays through a rename, a deactivation, a reactivation and a re-push, and a deleted user's
  uid is never handed out again. "The cluster" pages through /Users and /Groups the way nsscache's
  SCIM source does and builds passwd and group from the POSIX extension (docs/posix.md).
  A deactivated user keeps its passwd entry but loses its group access and SSH keys.

  Background:
    Given the directory has users:
      | name | firstName | lastName | displayName | email                 |
      | ann  | Ann       | Lee      | Ann Lee     | ann@mail.example.test |
      | ben  | Ben       | Ng       | Ben Ng      | ben@mail.example.test |

  Scenario Outline: A provisioned user keeps one uid through rename, deactivation, reactivation and re-push (<idp>)
    Given <idp> provisions to the service provider
    And the directory has a group "gpu" with members "ann, ben"
    When "ann, ben" is assigned to the app
    And the IdP provisions the group "gpu"
    And the IdP syncs
    And the cluster reads the service provider
    Then "ann" is in passwd with the uid it first had
    And "ann" is in the group "gpu" on the cluster
    When the IdP renames "ann" to "annie"
    And the IdP syncs
    And the cluster reads the service provider
    Then "ann" is in passwd with the uid it first had, named after "annie"
    When "ann" is deactivated in the IdP
    And the IdP syncs
    And the cluster reads the service provider
    Then "ann" is in passwd with the uid it first had
    And "ann" has no group access and no SSH keys on the cluster
    When "ann" is reactivated in the IdP
    And the IdP syncs
    And the IdP writes every user it owns again
    And the cluster reads the service provider
    Then "ann" is in passwd with the uid it first had
    And "ann" is in the group "gpu" on the cluster

    Examples:
      | idp   |
      | Okta  |
      | Entra |

  Scenario Outline: A deleted user's uid is never handed out again (<idp>)
    Given <idp> provisions to the service provider
    When "ann" is assigned to the app
    And the IdP syncs
    And the cluster reads the service provider
    And the service provider admin deletes "ann"
    And "ben" is assigned to the app
    And the IdP syncs
    And the cluster reads the service provider
    Then "ann" is not in passwd
    And "ben" has a uid no user had before

    Examples:
      | idp   |
      | Okta  |
      | Entra |
