"""Fault table, download rows: a cut download is never trusted, and `--verify` always hashes
(docs/faults.md). A local HTTP server on 127.0.0.1 plays the download host."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import threading

import pytest
from fault_support import run_cli

PAYLOAD = bytes(range(256)) * 2048  # 512 KiB
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
CUT_AT = 300_000


class Host:
    """Serves PAYLOAD. honest=False: no Content-Length, and the body stops after CUT_AT bytes (a
    proxy or server that drops the connection, seen by the client as a normal end of body).
    honest=True: Content-Length, and Range requests answered with 206."""

    def __init__(self):
        self.honest = False
        self.ranges: list[str | None] = []
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                host.ranges.append(rng)
                if not host.honest:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(PAYLOAD[:CUT_AT])
                    return
                start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
                self.send_header("Content-Length", str(len(PAYLOAD) - start))
                self.end_headers()
                self.wfile.write(PAYLOAD[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/file.bin"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def root(workspace, monkeypatch):
    """A repository root holding only the test's manifests (and its checksums.lock.json)."""
    from audiorepro import manifests

    root = workspace / "root"
    (root / "data_manifests" / "datasets").mkdir(parents=True)
    monkeypatch.setenv("AUDIOREPRO_ROOT", str(root))
    manifests._index.cache_clear()
    yield root
    manifests._index.cache_clear()


def _manifest(root, body: str) -> None:
    from audiorepro import manifests

    (root / "data_manifests" / "datasets" / "toy.yaml").write_text(
        "name: toy\nkind: dataset\ndescription: toy data\nlicence: CC0\n" + body
    )
    manifests._index.cache_clear()


def test_cut_download_without_length_is_not_locked_and_resumes(root, capsys):
    data = root / "toy-data"
    with Host() as host:
        _manifest(root, f"access: public\nsource: {{type: url}}\ntrust: tofu\nlocal_root: {data}\n"
                        f"files:\n  - {{path: file.bin, url: '{host.url}'}}\n")  # fmt: skip
        result = run_cli(capsys, "fetch", "toy")

        assert result.rc == 1
        first = result.err.splitlines()[0]
        assert first == (
            f"error: {data / 'file.bin'}: not trusted: the server did not say how long the file is (no "
            f"Content-Length), {CUT_AT} bytes arrived, and the manifest gives no sha256 or size to check them "
            "against, so a cut download cannot be told from a complete one. file.bin.part kept for resuming; "
            "add the file's size or sha256 to the manifest and fetch again"
        )
        assert not (data / "file.bin").exists()
        assert (data / "file.bin.part").stat().st_size == CUT_AT
        assert not (root / "data_manifests" / "checksums.lock.json").exists()

        host.honest = True  # the host now reports the length: the kept .part is resumed and locked
        again = run_cli(capsys, "fetch", "toy")

    assert again.rc == 0, again.err
    assert host.ranges[-1] == f"bytes={CUT_AT}-"
    assert (data / "file.bin").read_bytes() == PAYLOAD
    lock = json.loads((root / "data_manifests" / "checksums.lock.json").read_text())
    assert lock["files"]["toy/file.bin"]["sha256"] == PAYLOAD_SHA


def test_a_second_fetch_of_a_file_being_downloaded_stops_and_keeps_the_first_ones_part(root, capsys):
    """Two `make fetch-...` (or two runs) at once: both would append to one .part, the checksum
    would fail, and the .part (gigabytes of progress) would be deleted. The second stops instead,
    naming the first; the first's .part is untouched and its next fetch resumes it."""
    import subprocess
    import sys

    from fault_support import REPO

    data = root / "toy-data"
    part = data / "file.bin.part"
    data.mkdir()
    part.write_bytes(PAYLOAD[:CUT_AT])  # the first download's progress so far
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom audiorepro.jsonl import sole_writer\n"
         "with sole_writer(sys.argv[1]):\n    print('holding', flush=True)\n    time.sleep(120)\n", str(part)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "holding"
        with Host() as host:
            host.honest = True
            _manifest(root, f"access: public\nsource: {{type: url}}\nlocal_root: {data}\n"
                            f"files:\n  - {{path: file.bin, url: '{host.url}', sha256: {PAYLOAD_SHA}}}\n")  # fmt: skip
            result = run_cli(capsys, "fetch", "toy")
            assert result.rc == 1
            assert result.err.splitlines()[0].startswith(f"error: {part}: pid {holder.pid} ")
            assert host.ranges == []  # nothing was requested
            assert part.read_bytes() == PAYLOAD[:CUT_AT]
            holder.kill()
            holder.wait()
            again = run_cli(capsys, "fetch", "toy")
        assert again.rc == 0, again.err
        assert host.ranges == [f"bytes={CUT_AT}-"]  # the first one's bytes were kept and resumed
        assert (data / "file.bin").read_bytes() == PAYLOAD
    finally:
        holder.kill()
        holder.wait()


def test_status_verify_rehashes_a_file_with_unchanged_size_and_mtime(root, capsys):
    data = root / "toy-data"
    data.mkdir()
    clip = data / "clip.bin"
    clip.write_bytes(PAYLOAD)
    _manifest(root, f"access: bundled\nsource: {{type: bundled}}\ntrust: bundled\nlocal_root: {data}\n"
                    f"files:\n  - {{path: clip.bin, sha256: {PAYLOAD_SHA}, size: {len(PAYLOAD)}}}\n")  # fmt: skip
    assert run_cli(capsys, "fetch", "--status", "--verify").rc == 0  # hashed and remembered
    stat = clip.stat()
    edited = bytearray(PAYLOAD)
    edited[1000] ^= 0xFF
    clip.write_bytes(bytes(edited))
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime

    result = run_cli(capsys, "fetch", "--status", "--verify")

    assert result.rc == 1
    lines = result.out.splitlines()
    assert lines[lines.index("Mismatches:") + 1] == (
        f"  toy/clip.bin: mismatch (expected {PAYLOAD_SHA}, got {hashlib.sha256(edited).hexdigest()}). "
        "The bundled file was modified (it ships with the repository, fetch cannot replace it); restore it "
        "with `git checkout -- <file>`."
    )
