"""Start llama.cpp's OpenAI-compatible server (llama-cpp-python) on a free port, for CPUs.

Used by the test suite, the benchmark and an operator without a GPU (``python -m
salesagent.llm.local_server --model models/....gguf``). The model is a local GGUF file assembled
by ``scripts/setup.d/40-llm.sh``; nothing is downloaded here.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

log = logging.getLogger(__name__)

MODELS_DIR = Path(os.environ.get("SALESAGENT_MODELS_DIR", Path(__file__).resolve().parents[3] / "models"))
SMALL_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MEDIUM_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


class LocalServerError(RuntimeError):
    """The server could not start: missing package/model, or it died/never answered."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaCppServer:
    """``python -m llama_cpp.server`` as a child process; ready when ``/v1/models`` answers.

    ``--cache false``: llama-cpp-python's RAM prompt cache bounds itself by the KV state size
    only, not by the logits it keeps with each entry (prompt tokens x 152k vocabulary x 4 bytes,
    ~1 GB per prompt here), so it grew to 23 GB and was OOM-killed after ~30 corpus answers.
    Without it the server still reuses the longest common prefix of the previous prompt (the
    static system prompt), which is the saving that matters.
    """

    def __init__(self, model: Path, *, port: int | None = None, threads: int = 2, n_ctx: int = 4096,
                 alias: str = "local") -> None:
        self.model = Path(model)
        self.port = port or free_port()
        self.threads = threads
        self.n_ctx = n_ctx
        self.alias = alias
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout_s: float = 120.0) -> LlamaCppServer:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalServerError("llama-cpp-python is not installed: run scripts/setup.d/40-llm.sh")
        if not self.model.is_file():
            raise LocalServerError(f"model {self.model} not found: run scripts/setup.d/40-llm.sh")
        import tempfile

        fd, name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
        self._log_path = Path(name)
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
               "--host", "127.0.0.1", "--port", str(self.port), "--n_threads", str(self.threads),
               "--n_ctx", str(self.n_ctx), "--cache", "false", "--verbose", "false"]
        self._proc = subprocess.Popen(cmd, stdout=fd, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        os.close(fd)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LocalServerError(f"llama.cpp server exited with {self._proc.returncode}: {self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    log.info("llama.cpp server ready", extra={"context": {"port": self.port, "model": self.model.name}})
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise LocalServerError(f"llama.cpp server did not answer /v1/models within {timeout_s:.0f} s")

    def tail(self, chars: int = 2000) -> str:
        if self._log_path and self._log_path.exists():
            return self._log_path.read_text("utf-8", errors="replace")[-chars:]
        return ""

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        if self._log_path:
            self._log_path.unlink(missing_ok=True)

    def __enter__(self) -> LlamaCppServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a local GGUF model (OpenAI-compatible) for the agent.")
    parser.add_argument("--model", type=Path, default=MODELS_DIR / MEDIUM_MODEL)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--n-ctx", type=int, default=4096)
    args = parser.parse_args(argv)
    server = LlamaCppServer(args.model, port=args.port, threads=args.threads, n_ctx=args.n_ctx)
    try:
        server.start()
    except LocalServerError as exc:
        print(f"local_server: {exc}", file=sys.stderr)
        return 2
    print(f"LLM_BASE_URL={server.base_url} LLM_MODEL={server.alias} LLM_BACKEND=llamacpp", flush=True)
    try:
        assert server._proc is not None
        server._proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
