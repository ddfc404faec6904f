@okta
Feature: Okta Force Sync and attribute mapping
  Force Sync pushes the mapped profile of every provisioned user again, overwriting edits made on
  the service provider; attributes Okta does not map are kept, and ``active`` never changes.
  Mapping rows are Okta expressions; an empty result removes the attribute.

  Background:
    Given the directory has users:
      | name | firstName | lastName | displayName | department |
      | ann  | Ann       | Lee      | Ann Lee     | R&D        |

  Scenario: Force Sync overwrites drift on mapped attributes and keeps unmapped ones
    Given an Okta org
    And "ann" is assigned to the app
    When the service provider admin sets the displayName of "ann" to "Drifted"
    And the service provider admin sets the nickName of "ann" to "annie"
    Then the directory still has displayName "Ann Lee" for "ann"
    When Okta runs Force Sync
    Then the displayName of "ann" on the service provider is "Ann Lee"
    And the nickName of "ann" on the service provider is "annie"
    And the service provider holds the expected state of the directory

  Scenario Outline: Mapping expressions are evaluated on the directory profile (<dialect>)
    Given an Okta org with a <dialect> app
    And the Okta attribute mapping also has:
      | target                                                               | expression                                  |
      | nickName                                                             | String.toLowerCase(user.firstName)          |
      | title                                                                | user.department != null ? user.department : 'none' |
      | urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department | String.toUpperCase(user.department)         |
    When "ann" is assigned to the app
    Then the nickName of "ann" on the service provider is "ann"
    And the title of "ann" on the service provider is "R&D"
    And the urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department of "ann" on the service provider is "R&D"
    When the IdP clears the department of "ann"
    Then the title of "ann" on the service provider is "none"
    And the service provider holds the expected state of the directory

    Examples:
      | dialect |
      | OIN     |
      | AIW     |
