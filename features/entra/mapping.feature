@entra
Feature: Entra attribute mapping
  Mapping rows are Direct (an attribute), Constant, or Expression (Entra's function language),
  and may read directory extension attributes. Null results are never sent: an emptied source
  leaves the service provider's value as it was.

  Scenario Outline: Expressions and extension attributes are mapped (<idp>)
    Given <idp> provisions to the service provider
    And the directory has the extension attribute "extension_8c1f_costCenter"
    And the Entra user mapping also has:
      | target                                                                | kind       | source                                   |
      | nickName                                                              | expression | Join(".", ToLower([givenName]), ToLower([surname])) |
      | userType                                                              | constant   | Employee                                 |
      | urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter | direct     | extension_8c1f_costCenter                |
    And the directory has users:
      | name | firstName | lastName | extension_8c1f_costCenter |
      | ann  | Ann       | Lee      | CC-42                     |
    And "ann" is assigned to the app
    When the first cycle runs
    Then the nickName of "ann" on the service provider is "ann.lee"
    And the userType of "ann" on the service provider is "Employee"
    And the urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter of "ann" on the service provider is "CC-42"
    And the service provider holds the expected state of the directory
    When the IdP changes the extension_8c1f_costCenter of "ann" to "CC-7"
    And the next cycle runs
    Then the service provider holds the expected state of the directory

    Examples:
      | idp                      |
      | Entra                    |
      | Entra (aadOptscim062020) |
