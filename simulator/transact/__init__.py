"""Atomic's Transact UI as the simulator serves it: the iframe app, its calls and the SDK."""
