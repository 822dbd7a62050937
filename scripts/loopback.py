"""Loopback helpers shared by the server test scripts (standard library only)."""
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(proc, base, timeout=180, interval=0.3, name="server"):
    """Polls `base`/health until it answers 200. Raises RuntimeError when `proc` exits first or
    `timeout` seconds pass; stopping the process is the caller's."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not become healthy")
        time.sleep(interval)


def start_serve(args, port):
    """Starts `args` (a `pagewise serve` command line listening on `port`), its output to
    $PAGEWISE_SERVER_LOG or nowhere, and waits until it is healthy (killing it if it never is).
    Returns (process, base URL)."""
    log = open(os.environ.get("PAGEWISE_SERVER_LOG", os.devnull), "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, base)
    except RuntimeError:
        proc.kill()
        raise
    return proc, base
