Feature: An IdP defined only in the test suite follows the one-way rules through the registry

  Background:
    Given the directory has users:
      | name | firstName | lastName |
      | ann  | Ann       | Lee      |
      | ben  | Ben       | Ng       |
      | cat  | Cat       | Zoë      |

  Scenario: The service provider holds the expected state of the directory (Toy)
    Given Toy provisions to the service provider
    And the directory has a group "eng" with members "ann, ben"
    When "ann, ben, cat" is assigned to the app
    And the IdP provisions the group "eng"
    And the IdP syncs
    Then the service provider holds the expected state of the directory
    When the IdP changes the lastName of "ann" to "Lee-Smith"
    And "ben" leaves the group "eng"
    And "cat" joins the group "eng"
    And the group "eng" is renamed to "engineering"
    And "ben" is deactivated in the IdP
    And the IdP syncs
    Then the service provider holds the expected state of the directory
    When "ben" is reactivated in the IdP
    And the IdP syncs
    Then the service provider holds the expected state of the directory
