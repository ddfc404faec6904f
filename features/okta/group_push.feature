@okta
Feature: Okta Group Push
  A pushed group is created on the service provider (or an existing app group is linked), and
  every membership change of a provisioned member is pushed at once. A new group is created with
  no members; its provisioned members follow as a membership change. Push Now overwrites the app
  group's members with Okta's list, so members added on the service provider are removed. A rename
  is pushed. Unlinking either deletes the app group or leaves it as it is.

  Background:
    Given an Okta org
    And the directory has users:
      | name | firstName | lastName | displayName |
      | ann  | Ann       | Lee      | Ann Lee     |
      | ben  | Ben       | Ng       | Ben Ng      |
      | cat  | Cat       | Zoë      | Cat Zoë     |
    And "ann, ben, cat" is assigned to the app
    And the directory has a group "eng" with members "ann, ben"

  Scenario: Pushing a group creates it with its provisioned members
    When the IdP provisions the group "eng"
    Then the group "eng" on the service provider has members "ann, ben"
    And the service provider holds the expected state of the directory

  Scenario: Linking adopts an existing app group and adds Okta's members
    Given the service provider already has a group "eng"
    Then Okta cannot link the group "eng" before an import
    When Okta imports the app's groups
    And Okta links the group "eng" to the existing app group
    Then the group "eng" on the service provider keeps the id it had
    And the group "eng" on the service provider has members "ann, ben"

  Scenario: Membership changes and renames are pushed at once
    Given the IdP provisions the group "eng"
    When "ben" leaves the group "eng"
    And "cat" joins the group "eng"
    And the group "eng" is renamed to "engineering"
    Then the group "engineering" on the service provider has members "ann, cat"
    And the group "eng" is not on the service provider
    And the service provider holds the expected state of the directory

  Scenario: Push Now overwrites members added on the service provider
    Given the IdP provisions the group "eng"
    When the service provider admin adds "cat" to the group "eng"
    Then the group "eng" on the service provider has members "ann, ben, cat"
    When Okta runs Push Now for the group "eng"
    Then the group "eng" on the service provider has members "ann, ben"
    And the service provider holds the expected state of the directory

  Scenario: Unlinking with delete removes the app group
    Given the IdP provisions the group "eng"
    When Okta unlinks the group "eng" and deletes the app group
    Then the group "eng" is not on the service provider

  Scenario: Unlinking without delete leaves the app group and stops pushing
    Given the IdP provisions the group "eng"
    When Okta unlinks the group "eng" and leaves the app group
    And "ben" leaves the group "eng"
    Then the group "eng" on the service provider has members "ann, ben"
