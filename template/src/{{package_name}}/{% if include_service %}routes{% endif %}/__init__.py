"""The service's operations: one module per feature, each defining `router`.

squadkit's app factory includes the `router` of every module here (`squad serve`), so a new
feature's route is a new file. Changing an operation changes `contracts/openapi.json`: run
`make contract` and review the diff; a breaking change goes under a new path version.
"""

API_VERSION = "1.0.0"
"""Version of the contract in contracts/openapi.json; bump it with every change to it."""
