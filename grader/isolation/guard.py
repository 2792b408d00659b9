"""The guard an isolated worker installs before it runs any student code.

``sys.addaudithook`` hooks cannot be removed once installed. This one refuses, with a
:class:`Refused` error, what a submission has no business doing while it is graded:

- importing ``reference``, ``solutions`` or ``tests`` (by name, through importlib, or
  by file path), and reading files under those folders (in the OS sandbox they are not
  there at all; the guard says what was tried);
- starting processes (fork, exec, spawn, subprocess, os.system);
- network sockets, and sending signals (to the grader, say);
- writing, renaming or deleting files anywhere but the worker's own scratch folder (which
  is also where torch keeps its caches while grading);
- loading native code through ctypes, and reading other processes' memory.

Every refusal is also written down in :data:`VIOLATIONS`, because the submission may
catch the error; the grading process reads the list and takes the exercise's points.
This is an audit hook in the worker's own interpreter: code in that interpreter can switch
it off. The wall is the OS sandbox (:mod:`grader.isolation.sandbox`); the guard is the
second layer, which explains refusals in the feedback. See README ("Threat model").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

#: What the submission tried, one bilingual line each.
VIOLATIONS: list[str] = []

FORBIDDEN_PACKAGES = ("reference", "solutions", "tests")

_PROCESS_EVENTS = (
    "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn", "os.system", "os.startfile",
    "subprocess.Popen", "pty.spawn",
)  # fmt: skip
_SIGNAL_EVENTS = ("os.kill", "os.killpg", "signal.pthread_kill")
_FILE_EVENTS = (
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.truncate", "os.link",
    "os.symlink", "os.utime", "shutil.rmtree", "shutil.move", "shutil.copyfile",
)  # fmt: skip
_NATIVE_EVENTS = ("ctypes.dlopen", "ctypes.dlsym", "ctypes.call_function", "ctypes.cdata", "ctypes.addressof")


class Refused(PermissionError):
    """The guard refused something the submission tried."""


def install(kit_root: Path, allowed: Path, scratch: Path) -> None:
    """Install the guard. ``allowed`` (the folder being graded) may be read even inside the kit."""
    kit_root, allowed, scratch = kit_root.resolve(), allowed.resolve(), scratch.resolve()
    forbidden = [kit_root / name for name in FORBIDDEN_PACKAGES]
    own_proc = f"/proc/{os.getpid()}/"

    def refuse(ja: str, en: str) -> None:
        message = f"{ja} / {en}"
        VIOLATIONS.append(message)
        raise Refused(f"採点中は禁止されています: {message} / not allowed while grading")

    def inside(path: Path, folder: Path) -> bool:
        return path == folder or folder in path.parents

    def check_open(path: Any, mode: Any, flags: Any) -> None:
        if isinstance(path, int):
            return  # an already open descriptor
        name = os.fsdecode(path)
        resolved = Path(os.path.abspath(name))
        with_links = Path(os.path.realpath(name))
        for candidate in {resolved, with_links}:
            if inside(candidate, allowed):
                continue
            for folder in forbidden:
                if inside(candidate, folder):
                    refuse(f"{folder.name}/ のファイル {name} を開こうとしました", f"the submission tried to open {name} in {folder.name}/")
        if name.startswith("/proc/") and name[6:7].isdigit() and not name.startswith(own_proc):
            refuse(f"他のプロセスの情報 {name} を読もうとしました", f"the submission tried to read another process's {name}")
        writing = isinstance(mode, str) and any(c in mode for c in "wax+")
        writing = writing or (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
        if writing and not inside(with_links, scratch) and name != os.devnull:
            refuse(f"ファイル {name} に書き込もうとしました", f"the submission tried to write the file {name}")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "import":
            top = str(args[0]).split(".", 1)[0]
            if top in FORBIDDEN_PACKAGES:
                refuse(f"{top} を import しようとしました", f"the submission tried to import {top}")
        elif event == "open":
            check_open(*args[:3])
        elif event in _PROCESS_EVENTS:
            refuse("プロセスを起動しようとしました", f"the submission tried to start a process ({event})")
        elif event.startswith("socket.") and event not in ("socket.gethostname",):
            refuse("ネットワークに接続しようとしました", f"the submission tried to use the network ({event})")
        elif event in _SIGNAL_EVENTS:
            refuse("シグナルを送ろうとしました", f"the submission tried to send a signal ({event})")
        elif event in _FILE_EVENTS:
            paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
            if not paths or not all(inside(Path(os.path.realpath(os.fsdecode(p))), scratch) for p in paths):
                refuse("ファイルを変更しようとしました", f"the submission tried to change files ({event} {paths[0] if paths else ''})")
        elif event in _NATIVE_EVENTS:
            refuse("ctypes でネイティブコードを使おうとしました", f"the submission tried to use native code through ctypes ({event})")

    sys.addaudithook(hook)
    sys.meta_path.insert(0, _RefuseForbidden(refuse))


class _RefuseForbidden:
    """A finder first on ``sys.meta_path``: ``importlib.import_module`` raises no ``import`` audit event.

    In the sandbox the forbidden packages are not there at all; this names the attempt.
    """

    def __init__(self, refuse: Any) -> None:
        self._refuse = refuse

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        top = fullname.split(".", 1)[0]
        if top in FORBIDDEN_PACKAGES:
            self._refuse(f"{top} を import しようとしました", f"the submission tried to import {top}")
