@okta
Feature: Okta waits out HTTP 429
  On a 429 Okta waits the integer Retry-After, or 5 minutes without one, doubling each time, and
  gives up after 10 requests; the failed task can be retried. Waiting uses a virtual clock.

  Background:
    Given an Okta org
    And the directory has users:
      | name | firstName | lastName |
      | ann  | Ann       | Lee      |

  Scenario: Retry-After is honoured, then doubled
    Given the service provider answers the next 2 requests with 429 and Retry-After 30
    When "ann" is assigned to the app
    Then Okta waited 30, 60 seconds
    And the service provider holds the expected state of the directory

  Scenario: Without Retry-After Okta waits 5 minutes, then doubles
    Given the service provider answers the next 2 requests with 429 and no Retry-After
    When "ann" is assigned to the app
    Then Okta waited 300, 600 seconds
    And the service provider holds the expected state of the directory

  Scenario: After 10 rate-limited requests the task fails and can be retried
    Given the service provider answers the next 10 requests with 429 and Retry-After 1
    When "ann" is assigned to the app
    Then the last Okta task failed
    And "ann" is not on the service provider
    When Okta retries the failed tasks
    Then the service provider holds the expected state of the directory
