"""The HTTP API's figures: how fast `GET /v1/jobs/{id}` answers, and how long a CMS waits from
POST to the `episode.published` webhook for the seed sample with each voice, as ratios against
baselines measured in the same run.

  GET /v1/jobs/{id}   requests per second with keep-alive connections: wrk (Debian's package)
                      when it is installed, and a Python client (threads, http.client) always;
                      the baseline is GET /healthz (no token, no work) on the same server
  POST -> published   `listen api` without a broker (its own render pool), an empty take cache
                      of its own, the seed page posted as HTML, the clock stopped by the
                      webhook's arrival; the baseline is `listen render` of the same page with
                      the same voice and its own empty cache (what the API adds to a render)

    .venv/bin/python bench/api.py                            # espeak-en-us, joe, heart
    .venv/bin/python bench/api.py --voices espeak-en-us --seconds 5
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import free_port  # noqa: E402  (shared with the tests)

from listen.lifeline import CHILD_PROCESS  # noqa: E402

SEED = ROOT / "samples" / "seed-article.html"
TOKEN = "bench-token-" + "z" * 24
SECRET = "bench-secret"


class Receiver:
    """Records when each webhook event arrived."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], float] = {}
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.arrived[(event["event"], event["slug"])] = time.perf_counter()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, event: str, slug: str, timeout: float = 1800) -> float:
        deadline = time.monotonic() + timeout
        while (event, slug) not in self.arrived:
            if time.monotonic() > deadline:
                raise SystemExit(f"no {event} for {slug} after {timeout:g} s")
            time.sleep(0.02)
        return self.arrived[(event, slug)]


def write_config(folder: Path, cache: Path, webhook: str) -> Path:
    shutil.copy(ROOT / "samples" / "artwork.png", folder / "artwork.png")
    config = (ROOT / "samples" / "listen.toml").read_text(encoding="utf-8")
    config += f'\n[cache]\ndir = "{cache}"\n[api]\nwebhook_url = "{webhook}"\n'
    config += f'webhook_secret = "{SECRET}"\n'
    path = folder / "listen.toml"
    path.write_text(config, encoding="utf-8")
    return path


def python_rps(port: int, path: str, headers: dict[str, str], seconds: float,
               threads: int = 8) -> float:  # fmt: skip
    """Requests per second from `threads` keep-alive clients, for `seconds`."""
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            counts[index] += 1
        connection.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def wrk_rps(port: int, path: str, headers: dict[str, str], seconds: float) -> float | None:
    if shutil.which("wrk") is None:
        return None
    command = ["wrk", "-t2", "-c16", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    if re.search(r"Non-2xx or 3xx responses", done.stdout):
        raise SystemExit(f"wrk got errors:\n{done.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voices", default="espeak-en-us,joe,heart")
    parser.add_argument("--seconds", type=float, default=10.0, help="per requests/s figure")
    args = parser.parse_args()
    voices = [v for v in args.voices.split(",") if v]
    html = SEED.read_text(encoding="utf-8")
    [url] = re.findall(r'<link rel="canonical" href="([^"]+)"', html)

    with tempfile.TemporaryDirectory(prefix="listen-bench-api-") as tmp:
        folder = Path(tmp)
        receiver = Receiver()
        config = write_config(folder, folder / "api-cache", receiver.url)
        port = free_port()
        env = {**os.environ, "LISTEN_API_TOKENS": TOKEN}
        api = subprocess.Popen([sys.executable, "-m", "listen", "api", "--config", str(config),
                                "--out", str(folder / "public"), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                               start_new_session=True, **CHILD_PROCESS)  # fmt: skip
        auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", "/healthz")
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

            rows = []
            job = None
            load_before = os.getloadavg()[0]
            for voice in voices:
                slug = f"seed-{voice}"
                body = json.dumps({"html": html, "url": url, "voice": voice, "slug": slug})
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                started = time.perf_counter()
                connection.request("POST", "/v1/episodes", body=body.encode(), headers=auth)
                answer = connection.getresponse()
                job = json.loads(answer.read())["job"]
                assert answer.status == 202, answer.status
                api_seconds = receiver.wait("episode.published", slug) - started
                manifest = json.loads((folder / "public" / "episodes" / f"{slug}.json")
                                      .read_text(encoding="utf-8"))  # fmt: skip
                audio_seconds = manifest["duration_ms"] / 1000
                # the baseline: its own config naming its own empty cache (the API's config
                # names the API's cache, warm by now, and a config's cache wins over the env)
                cli_folder = folder / f"cli-{voice}"
                cli_folder.mkdir()
                cli_config = write_config(cli_folder, cli_folder / "cache", receiver.url)
                cli_started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "listen", "render", str(SEED), "--config",
                                str(cli_config), "--out", str(cli_folder / "public"), "--voice",
                                voice, "--quiet"], check=True)  # fmt: skip
                cli_seconds = time.perf_counter() - cli_started
                rows.append((voice, audio_seconds, api_seconds, cli_seconds))

            print(f"POST -> episode.published, seed sample, cold take cache ({os.cpu_count()} "
                  f"cores; load average before: {load_before:.1f})")
            print(f"{'voice':<14} {'audio s':>8} {'api s':>8} {'x real time':>12} "
                  f"{'listen render s':>16} {'api / render':>13}")
            for voice, audio_seconds, api_seconds, cli_seconds in rows:
                print(f"{voice:<14} {audio_seconds:8.1f} {api_seconds:8.2f} "
                      f"{audio_seconds / api_seconds:11.1f}x {cli_seconds:16.2f} "
                      f"{api_seconds / cli_seconds:12.2f}x")

            if job is not None:
                load = os.getloadavg()[0]
                print(f"\nGET /v1/jobs/{{id}} of a finished job, {args.seconds:g} s each, "
                      f"keep-alive (load average now: {load:.1f})")
                token = {"Authorization": f"Bearer {TOKEN}"}
                for name, measure in (("wrk -t2 -c16", wrk_rps), ("python, 8 threads",
                                                                  python_rps)):  # fmt: skip
                    jobs = measure(port, f"/v1/jobs/{job}", token, args.seconds)
                    health = measure(port, "/healthz", {}, args.seconds)
                    if jobs is None or health is None:
                        print(f"{name:<18} (not installed: apt-get install wrk)")
                        continue
                    print(f"{name:<18} {jobs:9.0f} req/s   /healthz {health:9.0f} req/s   "
                          f"ratio {jobs / health:.2f}")
        finally:
            os.killpg(api.pid, signal.SIGTERM)
            api.wait(30)
            receiver.httpd.shutdown()


if __name__ == "__main__":
    main()
