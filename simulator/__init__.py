"""An offline stand-in for Atomic: its API, Transact UI, tasks and webhooks, on its own origin."""
