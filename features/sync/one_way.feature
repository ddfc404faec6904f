@sync
Feature: One-way sync from the IdP directory to the service provider
  Data flows one way: IdP directory -> attribute mapping -> SCIM -> service provider.

  The rules, for every IdP:
  1. After any sequence of IdP-side changes and the IdP's sync, the service provider holds the
     expected state of the IdP directory through the IdP's attribute mapping: in-scope users exist once
     with their mapped attributes and active true; out-of-scope users are deactivated (or deleted,
     exactly as that IdP does it); provisioned groups exist with exactly the provisioned members.
     Okta syncs at once, when the change happens; Entra syncs at its next cycle.
  2. Nothing flows back: an edit made directly on the service provider never reaches the IdP
     directory. The IdP overwrites it the next time it writes that object (Okta: a profile push or
     Force Sync; Entra: the next change of that user, or a restarted cycle). Attributes the IdP does
     not map are left alone.
  3. Syncing again with no change in the directory leaves the service provider as it was.
  4. Deactivation keeps the user and its id; reactivation returns the same id, never a duplicate.

  Background:
    Given the directory has users:
      | name | firstName | lastName | displayName | email                 |
      | ann  | Ann       | Lee      | Ann Lee     | ann@mail.example.test |
      | ben  | Ben       | Ng       | Ben Ng      | ben@mail.example.test |
      | cat  | Cat       | Zoë      | Cat Zoë     |                       |

  Scenario Outline: The service provider holds the expected state of the directory (<idp>)
    Given <idp> provisions to the service provider
    And the directory has a group "eng" with members "ann, ben"
    When "ann, ben, cat" is assigned to the app
    And the IdP provisions the group "eng"
    And the IdP syncs
    Then the service provider holds the expected state of the directory
    When the IdP changes the lastName of "ann" to "Lee-Smith"
    And "ben" leaves the group "eng"
    And "cat" joins the group "eng"
    And the group "eng" is renamed to "engineering"
    And "cat" is unassigned from the app
    And the IdP syncs
    Then the service provider holds the expected state of the directory

    Examples:
      | idp                      |
      | Okta                     |
      | Okta (AIW)               |
      | Entra                    |
      | Entra (aadOptscim062020) |
      | PingFederate             |
      | PingFederate (PUT)       |

  Scenario Outline: Edits on the service provider never flow back and are overwritten (<idp>)
    Given <idp> provisions to the service provider
    And "ann" is assigned to the app
    And the IdP has synced
    When the service provider admin sets the displayName of "ann" to "Someone Else"
    And the service provider admin sets the nickName of "ann" to "annie"
    And the IdP syncs
    Then the directory still has displayName "Ann Lee" for "ann"
    When the IdP writes every user it owns again
    Then the displayName of "ann" on the service provider is "Ann Lee"
    And the nickName of "ann" on the service provider is "annie"
    And the service provider holds the expected state of the directory

    # PingFederate replaces a user with a PUT of its mapped attributes only, so a server that follows RFC 7644 §3.5.1
    # clears an attribute it does not map: features/pingfederate/provisioning.feature shows that rule instead.
    Examples:
      | idp                      |
      | Okta                     |
      | Okta (AIW)               |
      | Entra                    |
      | Entra (aadOptscim062020) |

  Scenario Outline: Syncing again with no change leaves the service provider as it was (<idp>)
    Given <idp> provisions to the service provider
    And the directory has a group "eng" with members "ann, ben"
    And "ann, ben" is assigned to the app
    And the IdP provisions the group "eng"
    And the IdP has synced
    When the IdP syncs again with no change in the directory
    Then the re-sync left the service provider unchanged
    And the service provider holds the expected state of the directory

    Examples:
      | idp                      |
      | Okta                     |
      | Okta (AIW)               |
      | Entra                    |
      | Entra (aadOptscim062020) |
      | PingFederate             |
      | PingFederate (PUT)       |

  Scenario Outline: Deactivation keeps the user and its id; reactivation returns it (<idp>)
    Given <idp> provisions to the service provider
    And "ann" is assigned to the app
    And the IdP has synced
    When "ann" is deactivated in the IdP
    And the IdP syncs
    Then "ann" is inactive on the service provider with the same id
    And the service provider holds the expected state of the directory
    When "ann" is reactivated in the IdP
    And the IdP syncs
    Then "ann" is active again with the same id
    And the service provider holds the expected state of the directory

    Examples:
      | idp                      |
      | Okta                     |
      | Okta (AIW)               |
      | Entra                    |
      | Entra (aadOptscim062020) |
      | PingFederate             |
      | PingFederate (PUT)       |
