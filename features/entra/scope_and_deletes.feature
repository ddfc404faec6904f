@entra
Feature: Entra scoping, soft delete and hard delete
  Only users in scope are provisioned: assigned to the app (or "sync all users and groups") and
  admitted by the scoping filter. A user leaving the scope, disabled, or soft-deleted is disabled
  on the service provider (active false, same id); a restored user comes back with the same id. A
  hard-deleted user is deleted. A group that is no longer assigned is deleted.

  Background:
    Given an Entra tenant
    And the directory has users:
      | name | firstName | lastName | displayName | department |
      | ann  | Ann       | Lee      | Ann Lee     | R&D        |
      | ben  | Ben       | Ng       | Ben Ng      | Sales      |

  Scenario: Only assigned users are provisioned by default
    Given "ann" is assigned to the app
    When the first cycle runs
    Then "ann" is active on the service provider
    And "ben" is not on the service provider
    And the service provider holds the expected state of the directory

  Scenario: Sync all provisions every user
    Given Entra provisions all users and groups, assigned or not
    When the first cycle runs
    Then "ben" is active on the service provider
    And the service provider holds the expected state of the directory

  Scenario: The scoping filter decides who is in scope
    Given Entra provisions only users whose department EQUALS "R&D"
    And "ann, ben" is assigned to the app
    When the first cycle runs
    Then "ben" is not on the service provider
    When the IdP changes the department of "ann" to "Sales"
    And the next cycle runs
    Then "ann" is inactive on the service provider with the same id
    And the service provider holds the expected state of the directory

  Scenario: Unassigning disables the user and keeps it
    Given "ann" is assigned to the app
    And the IdP has synced
    When "ann" is unassigned from the app
    And the next cycle runs
    Then "ann" is inactive on the service provider with the same id
    And the service provider holds the expected state of the directory

  Scenario: Soft delete disables, restore brings back the same user
    Given "ann" is assigned to the app
    And the IdP has synced
    When "ann" is soft-deleted in Entra
    And the next cycle runs
    Then "ann" is inactive on the service provider with the same id
    When "ann" is restored in Entra
    And the next cycle runs
    Then "ann" is active again with the same id
    And the service provider holds the expected state of the directory

  Scenario: Hard delete deletes the user
    Given "ann" is assigned to the app
    And the IdP has synced
    When "ann" is hard-deleted in Entra
    And the next cycle runs
    Then "ann" is not on the service provider
    And the service provider holds the expected state of the directory

  Scenario: A group that is no longer assigned is deleted
    Given the directory has a group "eng" with members "ann"
    And the IdP provisions the group "eng"
    And the IdP has synced
    When the IdP stops provisioning the group "eng"
    And the next cycle runs
    Then the group "eng" is not on the service provider
    And "ann" is inactive on the service provider with the same id
