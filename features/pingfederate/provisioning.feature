@sync
Feature: PingFederate's SCIM Provisioner keeps the service provider in step with its datastore
  PingFederate checks its datastore every minute and sends what changed since the state of synchronization it
  keeps (docs/pingfederate-idp.md §1). It finds a user by userName before creating it, writes users with POST and
  PUT only, disables a removed user with a PUT of active false or deletes it, finds a group by reading every
  page of /Groups, and pushes a group's name and members with PATCH, or with PUT when the connection has no
  PATCH (§3-§5).

  Background:
    Given the directory has users:
      | name | firstName | lastName | displayName | email                 |
      | ann  | Ann       | Lee      | Ann Lee     | ann@mail.example.test |
      | ben  | Ben       | Ng       | Ben Ng      | ben@mail.example.test |
      | cat  | Cat       | Zoë      | Cat Zoë     |                       |

  Scenario Outline: A cycle sends what changed, and an idle cycle sends nothing (<idp>)
    Given <idp> provisions to the service provider
    And the directory has a group "eng" with members "ann, ben"
    When "ann, ben, cat" is assigned to the app
    And the IdP provisions the group "eng"
    And the IdP syncs
    Then the service provider holds the expected state of the directory
    When the IdP changes the lastName of "ann" to "Lee-Smith"
    And the IdP clears the displayName of "cat"
    And "cat" joins the group "eng"
    And "ben" leaves the group "eng"
    And the group "eng" is renamed to "engineering"
    And the IdP syncs
    Then the service provider holds the expected state of the directory
    And "cat" has no displayName on the service provider
    And the group "engineering" on the service provider has members "ann, cat"
    When the IdP syncs again with no change in the directory
    Then the re-sync wrote nothing

    Examples:
      | idp                |
      | PingFederate       |
      | PingFederate (PUT) |

  Scenario: A user disabled in the datastore is disabled on the service provider, then enabled again
    Given PingFederate provisions to the service provider
    And the directory has a group "eng" with members "ann, ben"
    And "ann, ben" is assigned to the app
    And the IdP provisions the group "eng"
    And the IdP has synced
    When "ben" is deactivated in the IdP
    And the IdP syncs
    Then "ben" is inactive on the service provider with the same id
    And the group "eng" on the service provider has members "ann"
    And the service provider holds the expected state of the directory
    When "ben" is reactivated in the IdP
    And the IdP syncs
    Then "ben" is active again with the same id
    And the group "eng" on the service provider has members "ann, ben"

  Scenario: With Remove User Action Delete, a user removed from the source is deleted
    Given PingFederate provisions to the service provider
    And the IdP's setting "remove_user_action" is "delete"
    And "ann, ben" is assigned to the app
    And the IdP has synced
    When "ben" is unassigned from the app
    And the IdP syncs
    Then "ben" is not on the service provider
    And the service provider holds the expected state of the directory

  Scenario: An account and a group that exist already are matched, not created again
    Given PingFederate provisions to the service provider
    And the service provider already has a user "ann"
    And the service provider already has a group "eng"
    And the directory has a group "eng" with members "ann, ben"
    When "ann, ben" is assigned to the app
    And the IdP provisions the group "eng"
    And the IdP syncs
    Then "ann" is active again with the same id
    And the group "eng" on the service provider has members "ann, ben"
    And the service provider holds the expected state of the directory

  Scenario Outline: A disabled datastore user is not provisioned unless the connection provisions disabled users (<choice>)
    Given PingFederate provisions to the service provider
    And the IdP's setting "provision_disabled_users" is "<choice>"
    And "ben" is deactivated in the IdP
    When "ann, ben" is assigned to the app
    And the IdP syncs
    Then the service provider holds the expected state of the directory
    And "ben" <outcome>

    Examples:
      | choice | outcome                             |
      | false  | is not on the service provider      |
      | true   | is inactive on the service provider |

  Scenario: A group taken out of the source is deleted
    Given PingFederate provisions to the service provider
    And the directory has a group "eng" with members "ann"
    And "ann" is assigned to the app
    And the IdP provisions the group "eng"
    And the IdP has synced
    When the IdP stops provisioning the group "eng"
    And the IdP syncs
    Then the group "eng" is not on the service provider

  Scenario: An edit on the service provider never flows back; PingFederate's PUT replaces the whole user
    Given PingFederate provisions to the service provider
    And "ann" is assigned to the app
    And the IdP has synced
    When the service provider admin sets the displayName of "ann" to "Someone Else"
    And the service provider admin sets the nickName of "ann" to "annie"
    And the IdP syncs
    Then the directory still has displayName "Ann Lee" for "ann"
    And the displayName of "ann" on the service provider is "Someone Else"
    When the IdP writes every user it owns again
    Then the displayName of "ann" on the service provider is "Ann Lee"
    And "ann" has no nickName on the service provider
    And the service provider holds the expected state of the directory
