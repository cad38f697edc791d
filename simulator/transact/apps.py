from __future__ import annotations

from django.apps import AppConfig


class TransactConfig(AppConfig):
    name = "simulator.transact"
    label = "simulator_transact"
    verbose_name = "Simulated Transact UI"
