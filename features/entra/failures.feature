@entra
Feature: Entra escrow and quarantine
  A user whose request fails is logged and put in escrow: it is retried about 6 hours later, not
  at every cycle. When the service provider fails every request, the test connection at the start
  of a cycle fails and the job goes to quarantine: cycles slow to one a day until a cycle succeeds.

  Background:
    Given an Entra tenant
    And the directory has users:
      | name | firstName | lastName |
      | ann  | Ann       | Lee      |
    And "ann" is assigned to the app

  Scenario: A failed create is escrowed and retried hours later
    Given the service provider fails the next 1 user creations with status 500
    When the first cycle runs
    Then "ann" is in escrow
    And the provisioning log shows "InternalServerError" for "ann"
    When the next cycle runs
    Then "ann" is not on the service provider
    When 6 hours pass
    And the next cycle runs
    Then "ann" is not in escrow
    And the service provider holds the expected state of the directory

  Scenario: A service provider failing every request puts the job in quarantine until it recovers
    When the service provider fails every request with status 500
    And the first cycle runs
    Then the provisioning job is in quarantine
    And the next cycle is due in 24 hours
    When the service provider recovers
    And the next cycle runs
    Then the provisioning job is not in quarantine
    And the service provider holds the expected state of the directory
