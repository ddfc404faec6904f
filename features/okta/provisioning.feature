@okta
Feature: Okta provisions users as soon as the admin acts
  Okta is event-driven: each admin action on an assigned user is sent at once.
  It looks a user up by userName before creating it, and links to a user that already exists
  instead of creating a second one. Deactivation only deactivates (Okta never deletes users);
  suspension sends nothing; deleting a user in Okta deactivates the app user first.

  Background:
    Given an Okta org
    And the directory has users:
      | name | firstName | lastName | displayName | email                 | title    |
      | ann  | Ann       | Lee      | Ann Lee     | ann@mail.example.test | Engineer |
      | ben  | Ben       | Ng       | Ben Ng      | ben@mail.example.test |          |

  Scenario: An assigned user is looked up, then created with the mapped profile
    When "ann" is assigned to the app
    Then Okta looked "ann" up by userName before creating it
    And "ann" is active on the service provider
    And the name.givenName of "ann" on the service provider is "Ann"
    And the service provider holds the expected state of the directory

  Scenario: A user that already exists on the service provider is linked, not duplicated
    Given the service provider already has a user "ann"
    When "ann" is assigned to the app
    Then Okta linked "ann" to the existing user
    And the service provider holds the expected state of the directory

  Scenario: A profile change is pushed at once, and a cleared value is removed
    Given "ann" is assigned to the app
    When the IdP changes the lastName of "ann" to "Lee-Smith"
    And the IdP clears the email of "ann"
    Then the name.familyName of "ann" on the service provider is "Lee-Smith"
    And "ann" has no emails on the service provider
    And the service provider holds the expected state of the directory

  Scenario: Unmapped attributes are not sent
    When "ann" is assigned to the app
    Then "ann" has no title on the service provider

  Scenario: Deactivate keeps the user, reactivation brings back the same user
    Given "ann" is assigned to the app
    When "ann" is deactivated in the IdP
    Then "ann" is inactive on the service provider with the same id
    When "ann" is reactivated in the IdP
    Then "ann" is active again with the same id
    And the service provider holds the expected state of the directory

  Scenario: Suspending and unsuspending send nothing
    Given "ann" is assigned to the app
    When "ann" is suspended in Okta
    And "ann" is unsuspended in Okta
    Then Okta sent nothing
    And "ann" is active on the service provider

  Scenario: Unassigning deactivates the user and keeps it
    Given "ann" is assigned to the app
    When "ann" is unassigned from the app
    Then "ann" is inactive on the service provider with the same id
    And the service provider holds the expected state of the directory

  Scenario: Deleting a user in Okta deactivates it on the service provider
    Given "ann" is assigned to the app
    When "ann" is deleted in Okta
    Then "ann" is inactive on the service provider with the same id

  Scenario: Group-based assignment provisions every member and deprovisions them with the group
    Given the directory has a group "staff" with members "ann, ben"
    When Okta assigns the group "staff" to the app
    Then "ann" is active on the service provider
    And "ben" is active on the service provider
    And the service provider holds the expected state of the directory
    When Okta unassigns the group "staff" from the app
    Then "ann" is inactive on the service provider with the same id
    And "ben" is inactive on the service provider with the same id
    And the service provider holds the expected state of the directory
