"""The simulator as a real process for tests: its own free loopback port and a fresh database.

    sim = SimulatorProcess()  # migrates, starts, waits until it answers
    sim.api("POST", "/access-token", json={"identifier": "alice"})
    sim.stop()

Steps and webhook retries are 0.3 s apart, so a task is final in well under a second.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
# Port 9 (discard) refuses connections: webhooks go nowhere until a test configures a receiver.
NOWHERE = "http://127.0.0.1:9/webhooks/atomic/"
TERMINAL = ("completed", "failed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SimulatorProcess:
    def __init__(
        self,
        *,
        step_seconds: float = 0.1,
        retry_delay: float = 0.2,
        webhook_url: str = NOWHERE,
        env: dict[str, str] | None = None,
    ) -> None:
        self.api_key = os.environ.get("ATOMIC_API_KEY") or "simulator-key"
        self.api_secret = os.environ.get("ATOMIC_API_SECRET") or "simulator-secret"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._tmp = tempfile.TemporaryDirectory(prefix="simulator-")
        self.log_path = Path(self._tmp.name) / "simulator.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "simulator.settings",
            "SIMULATOR_DATABASE_URL": f"sqlite:///{Path(self._tmp.name) / 'simulator.sqlite3'}",
            "SIMULATOR_PORT": str(self.port),
            "SIMULATOR_PUBLIC_URL": self.url,
            "SIMULATOR_TASK_STEP_SECONDS": str(step_seconds),
            "SIMULATOR_TRANSACT_POLL_MS": "100",
            "SIMULATOR_WEBHOOK_RETRY_DELAY": str(retry_delay),
            "SIMULATOR_WEBHOOK_URL": webhook_url,
            "ATOMIC_API_KEY": self.api_key,
            "ATOMIC_API_SECRET": self.api_secret,
            "DJANGO_DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.session = requests.Session()
        self.session.trust_env = False  # loopback only, never through a proxy
        self.process: subprocess.Popen[bytes] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, *, timeout: float = 30.0) -> SimulatorProcess:
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run(
            [*manage, "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [*manage, "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the simulator exited at start:\n{self.log()}")
            try:
                if self.session.get(f"{self.url}/_sim/state", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the simulator did not answer within {timeout} s:\n{self.log()}")

    def _end_process(self, *, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def restart(self, *, crash: bool = False, pause: float = 0.0) -> SimulatorProcess:
        """Stop (or with `crash`, kill) the process and start it again on the same port and
        database, after `pause` seconds down."""
        self._end_process(kill=crash)
        time.sleep(pause)
        return self.start()

    def stop(self) -> None:
        self._end_process()
        self.session.close()
        self._tmp.cleanup()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except FileNotFoundError:
            return ""

    # --- Atomic's API ---------------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """A call to the API with the right key and secret (override them through `headers`)."""
        sent = {"x-api-key": self.api_key, "x-api-secret": self.api_secret, **(headers or {})}
        kwargs.setdefault("timeout", 15)
        return self.session.request(method, self.url + path, json=json, headers=sent, **kwargs)

    def access_token(self, identifier: str, **extra: Any) -> str:
        answer = self.api("POST", "/access-token", json={"identifier": identifier, **extra})
        answer.raise_for_status()
        return str(answer.json()["data"]["publicToken"])

    def task_status(self, task_id: str) -> dict[str, Any]:
        answer = self.api("GET", f"/task/{task_id}/status")
        answer.raise_for_status()
        return dict(answer.json())

    def wait_for_task(self, task_id: str, *, timeout: float = 10.0) -> dict[str, Any]:
        """Poll GET /task/{id}/status until the task is final (its status); raises at the deadline."""
        last: dict[str, Any] = {}

        def final() -> dict[str, Any] | None:
            last.update(self.task_status(task_id))
            return dict(last) if last["status"] in TERMINAL else None

        return wait_until(
            final, what=f"task {task_id} to finish", timeout=timeout, detail=lambda: str(last)
        )

    def accounts(self, identifier: str) -> list[dict[str, Any]]:
        answer = self.api("GET", f"/{identifier}/pay-link/accounts")
        answer.raise_for_status()
        return list(answer.json()["accounts"])

    # --- the control endpoints ------------------------------------------------------------

    def control(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = self.session.post(self.url + path, json=payload, timeout=15)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text}")
        return dict(answer.json())

    def control_faults(self, **fault: Any) -> dict[str, Any]:
        """POST /_sim/faults: endpoint, kind, times, retry_after, delay."""
        return self.control("/_sim/faults", fault)

    def control_webhook_faults(self, mode: str, times: int = 1) -> dict[str, Any]:
        return self.control("/_sim/webhook-faults", {"mode": mode, "times": times})

    def configure(self, **settings: Any) -> dict[str, Any]:
        """POST /_sim/config: webhook_url, webhook_retry_delay, task_step_seconds,
        action_lifetime_seconds (None puts a setting back to its default)."""
        return self.control("/_sim/config", settings)

    def reset(self, *, wipe: bool = False) -> None:
        """Clear faults, runtime config and unsent webhooks (and with `wipe`, all data)."""
        self.control("/_sim/reset", {"all": wipe})

    def state(self) -> dict[str, Any]:
        answer = self.session.get(f"{self.url}/_sim/state", timeout=15)
        answer.raise_for_status()
        return dict(answer.json())

    def expire_token(self, public_token: str) -> None:
        self.control("/_sim/tokens/expire", {"publicToken": public_token})

    def connect(
        self,
        identifier: str,
        company: str,
        *,
        username: str = "test-good",
        metadata: dict[str, str] | None = None,
        wait: bool = True,
    ) -> str:
        """Start a connect task as if the user logged in through Transact (company: id or
        slug); its task id, once final unless `wait` is false."""
        payload = {"identifier": identifier, "company": company, "username": username}
        task_id = str(self.control("/_sim/tasks", payload | {"metadata": metadata or {}})["taskId"])
        if wait:
            self.wait_for_task(task_id)
        return task_id

    def run_action(self, identifier: str, action_id: str, *, wait: bool = True) -> str:
        task_id = str(
            self.control("/_sim/tasks", {"identifier": identifier, "actionId": action_id})["taskId"]
        )
        if wait:
            self.wait_for_task(task_id)
        return task_id
