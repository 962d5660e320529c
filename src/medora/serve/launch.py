"""`medora serve` in a child process on a free loopback port: what the browser, crash and
worker tests and the load benchmark run against (a real server, not an in-process app)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

MEDORA = Path(sys.executable).parent / "medora"
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class ServiceProcess:
    """A running `medora serve` and where it writes its log."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, characters: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-characters:]

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM, as a service manager would send it, and wait for the exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: the crash a power cut or the OOM killer would cause."""
        self.process.kill()
        self.process.wait()


def start_service(arguments: Sequence[str], *, env: Mapping[str, str], log: Path,
                  timeout: float = 120) -> ServiceProcess:
    """Start `medora serve ARGUMENTS --port <free port>` and return once ``GET /health``
    answers 200; raise ``RuntimeError`` with the log's tail if it exits or never does."""
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen([str(MEDORA), "serve", *arguments, "--port", str(port)],
                                   env=dict(env), stdout=output, stderr=subprocess.STDOUT)
    service = ServiceProcess(process, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"medora serve exited with {process.returncode}:\n"
                               f"{service.log_tail()}")
        try:
            if httpx.get(f"{service.url}/health", timeout=1).status_code == 200:
                return service
        except httpx.TransportError:
            time.sleep(0.2)
    service.kill()
    raise RuntimeError(f"medora serve did not answer /health within {timeout:g} s:\n"
                       f"{service.log_tail()}")


@contextmanager
def running_service(arguments: Sequence[str], *, env: Mapping[str, str], log: Path,
                    timeout: float = 120) -> Iterator[ServiceProcess]:
    """:func:`start_service`, stopped with SIGTERM when the block exits."""
    service = start_service(arguments, env=env, log=log, timeout=timeout)
    try:
        yield service
    finally:
        service.stop()
