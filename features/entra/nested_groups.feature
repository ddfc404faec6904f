@entra
Feature: Entra nested groups against AUP's flat groups
  Entra sends a group that is a member of another group, when both are provisioned, as one member
  of the parent: a members add with the child group's id, its members not flattened. AUP keeps groups
  flat, so the service provider refuses that member with a SCIM error; Entra logs the parent group's
  update as failed and escrows it, and the rest of the membership stays applied.

  Background:
    Given an Entra tenant
    And the directory has users:
      | name | firstName | lastName |
      | ann  | Ann       | Lee      |
    And "ann" is assigned to the app
    And the directory has a group "gpu" with members "ann"
    And the directory has a group "research" with members "ann"
    And the group "gpu" is a member of the group "research"

  Scenario: A flat-group service provider refuses the nested group, and Entra escrows the parent
    Given the IdP provisions the group "gpu"
    And the IdP provisions the group "research"
    When the first cycle runs
    Then the service provider refused the group "gpu" as a member of "research" with a SCIM error
    And the provisioning log shows a failure for the group "research"
    And the group "research" is in escrow
    And the group "research" on the service provider holds "ann" and no group

  Scenario: A child group that is not provisioned is not sent
    Given the IdP provisions the group "research"
    When the first cycle runs
    Then the group "research" is not in escrow
    And the group "research" on the service provider holds "ann" and no group
    And the service provider holds the expected state of the directory
