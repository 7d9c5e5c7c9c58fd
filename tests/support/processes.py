"""Start real server processes (Redis, ...) on free loopback ports for tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open within {timeout}s")


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def redis_server(workdir: Path, port: int | None = None, *, fsync: str = "always") -> Iterator[str]:
    """A private, real redis-server with AOF on, data in ``workdir``. Yields its URL.

    ``fsync``: the AOF policy; tests that restart Redis want "always", the benchmarks use
    "everysec" as ``make run`` does (Redis holds state rebuilt from SQL by the reconciler)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; run `make setup` first")
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--appendonly",
            "yes",
            "--appendfsync",
            fsync,
            "--save",
            "",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc=proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)


def create_database(server_url: str, name: str) -> str:
    """A new, empty database on the server of ``server_url``: its URL."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    """A private, real PostgreSQL cluster (initdb + postgres) on a free port. Yields its URL."""
    bindir = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
    if bindir is None or not (bindir / "postgres").exists():
        raise RuntimeError("PostgreSQL server binaries are not installed; run `make test` setup")
    data = workdir / "pgdata"
    env_user = ["-U", "kefu"]
    run_as: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # postgres refuses to run as root: use the unprivileged system account of the package.
        shutil.chown(workdir, "postgres", "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), *env_user, "--auth=trust", "-E", "UTF8"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            *run_as,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(workdir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc=proc)
        subprocess.run(
            [*run_as, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), *env_user, "kefu"],
            check=True,
        )
        yield f"postgresql://kefu@127.0.0.1:{port}/kefu"
    finally:
        stop(proc)
