@okta
Feature: Okta's password sync and its import, as Okta's settings describe them
  With "Sync password" on, Okta sends the user's Okta password when it creates the app user and again each time it
  changes; with it off, the create carries Okta's random 8-character password and a change sends nothing
  (docs/okta-idp.md §4.3, §6). An import reads the app's users and matches them to Okta users; a confirmed match is
  linked, so Okta updates that app user instead of creating another: at its next profile push or Force Sync, as
  linking itself sends nothing (docs/okta-idp.md §3).

  Background:
    Given Okta provisions to the service provider
    And the directory has users:
      | name | firstName | lastName | displayName | email                 |
      | ann  | Ann       | Lee      | Ann Lee     | ann@mail.example.test |

  Scenario: With password sync on, the password goes with the create and follows each change
    Given the IdP's setting "sync_password" is "true"
    And "ann" has the Okta password "Correct-Horse-1"
    When "ann" is assigned to the app
    Then Okta sent the password "Correct-Horse-1"
    When "ann" changes the Okta password to "Battery-Staple-2"
    Then Okta sent the password "Battery-Staple-2"
    And "ann" is active on the service provider

  Scenario: With password sync off, the create carries a random password and a change sends nothing
    Given "ann" has the Okta password "Correct-Horse-1"
    When "ann" is assigned to the app
    Then Okta created the user with a random password, not "Correct-Horse-1"
    When "ann" changes the Okta password to "Battery-Staple-2"
    Then Okta sent nothing for the password change

  Scenario: An imported app user confirmed as an exact match is updated, not created again
    Given the service provider already has a user "ann"
    When Okta imports the app's users and confirms the exact matches
    And "ann" is assigned to the app
    Then "ann" is active again with the same id
    When the IdP writes every user it owns again
    Then "ann" is active again with the same id
    And the service provider holds the expected state of the directory
