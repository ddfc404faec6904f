@entra
Feature: Entra provisions in cycles
  Entra is cycle-based: directory changes wait for the next cycle (about every 40 minutes, on a
  virtual clock here). The initial cycle evaluates every object in scope and matches each user by
  userName before creating it; an incremental cycle evaluates only what changed since the last one,
  so a cycle with no change writes nothing. Provision on demand sends one user now.

  Background:
    Given an Entra tenant
    And the directory has users:
      | name | firstName | lastName | displayName | email                 | title    |
      | ann  | Ann       | Lee      | Ann Lee     | ann@mail.example.test | Engineer |
      | ben  | Ben       | Ng       | Ben Ng      | ben@mail.example.test |          |
      | cat  | Cat       | Zoë      | Cat Zoë     |                       |          |

  Scenario: The initial cycle provisions assigned users and groups with their members
    Given the directory has a group "eng" with members "ann, ben"
    And "cat" is assigned to the app
    And the IdP provisions the group "eng"
    When the first cycle runs
    Then the last cycle was an initial cycle
    And the group "eng" on the service provider has members "ann, ben"
    And the service provider holds the expected state of the directory

  Scenario: Nothing is sent until the next cycle; a cycle without change writes nothing
    Given "ann" is assigned to the app
    And the IdP has synced
    When the IdP changes the title of "ann" to "Lead"
    Then the title of "ann" on the service provider is "Engineer"
    When the next cycle runs
    Then the last cycle was an incremental cycle
    And the title of "ann" on the service provider is "Lead"
    When the next cycle runs
    Then the last cycle wrote nothing
    And the service provider holds the expected state of the directory

  Scenario: An existing user is matched by userName and updated, not duplicated
    Given the service provider already has a user "ann"
    And "ann" is assigned to the app
    When the first cycle runs
    Then Entra matched "ann" to the existing user
    And the service provider holds the expected state of the directory

  Scenario: Provision on demand sends one user now, without waiting for a cycle
    Given "ann, ben" is assigned to the app
    When Entra provisions "ann" on demand
    Then "ann" is active on the service provider
    And "ben" is not on the service provider

  Scenario: Drift is kept until the user changes, or provisioning restarts
    Given "ann" is assigned to the app
    And the IdP has synced
    When the service provider admin sets the displayName of "ann" to "Drifted"
    And the next cycle runs
    Then the displayName of "ann" on the service provider is "Drifted"
    And the directory still has displayName "Ann Lee" for "ann"
    When provisioning is restarted
    Then the last cycle was an initial cycle
    And the displayName of "ann" on the service provider is "Ann Lee"
    And the service provider holds the expected state of the directory

  Scenario Outline: Both wire dialects leave the same state (<idp>)
    Given <idp> provisions to the service provider
    And "ann" is assigned to the app
    And the IdP has synced
    When the IdP changes the title of "ann" to "Lead"
    And the IdP changes the displayName of "ann" to "Ann L."
    And "ann" is deactivated in the IdP
    And the next cycle runs
    Then Entra sent PATCH operations named <ops> and <encoding> booleans
    And "ann" is inactive on the service provider with the same id
    And the service provider holds the expected state of the directory

    Examples:
      | idp                      | ops                   | encoding |
      | Entra                    | Add, Replace, Remove  | string   |
      | Entra (aadOptscim062020) | add, replace, remove  | boolean  |

  Scenario: A member who comes into scope later joins the group only at a restart
    Given the directory has a group "eng" with members "ann, ben"
    And the IdP provisions the group "eng"
    And "ben" is deactivated in the IdP
    And the IdP has synced
    When "ben" is reactivated in the IdP
    And the next cycle runs
    Then "ben" is active on the service provider
    And the group "eng" on the service provider has members "ann"
    When provisioning is restarted
    Then the group "eng" on the service provider has members "ann, ben"
    And the service provider holds the expected state of the directory
