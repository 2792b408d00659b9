"""The operating system's wall around the student's code: a bubblewrap sandbox for the fork server.

The fork server (:mod:`grader.isolation.zygote`) and every worker it forks run inside
one `bubblewrap <https://github.com/containers/bubblewrap>`_ sandbox (Debian's
``bubblewrap``, the tool Flatpak uses), built from Linux namespaces:

- the file system holds only what Python and torch need, read-only (the system's
  ``/usr``, the interpreter, its site-packages, a few files of ``/etc``), and of the kit
  only ``grader/``: no ``reference/``, ``solutions/``, ``tests/``, ``.git``, course folder,
  output folder, other students, or any other copy of the kit. The one writable place
  is a bounded ``tmpfs`` (the workers' scratch folders);
- its own PID namespace with the fork server as PID 1: a signal from inside cannot stop
  it, an orphan is its child, and every process a worker leaves behind is killed when
  the fork server sweeps (after each student) or ends;
- no network, no capabilities, no new user namespaces, a new session (no terminal to
  type into), and a cleared environment. It ends when the grading process hangs up
  (see :mod:`grader.isolation.zygote`), and the whole namespace with it.

The student's file travels as bytes over the worker's pipe and becomes a private copy
in the worker's scratch (see :mod:`grader.isolation.worker`), so the sandbox is the same
for every student and never shows a folder of theirs. GPU device nodes are passed in
when the grading process will run CUDA cases.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

#: Where the kit lives, and the one folder of it the sandbox shows.
KIT_ROOT = Path(__file__).resolve().parents[2]
ENGINE = KIT_ROOT / "grader"

#: Folders of the kit a worker must never see, even when an entry of sys.path leads there.
HIDDEN = tuple(KIT_ROOT / name for name in ("reference", "solutions", "tests", ".git"))

#: The sandbox's one writable place (the workers' scratch folders), and its size.
SCRATCH = "/scratch"
SCRATCH_BYTES = 512 * 2**20
SHM_BYTES = 64 * 2**20

#: The only files of /etc a Python process and torch look at.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "passwd", "group")

#: Environment variables that reach the sandbox (every other one, an instructor's token say, does not).
ENV_NAMES = ("PATH", "LANG", "TZ", "PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG")
ENV_PREFIXES = ("LC_", "OMP_", "MKL_", "TORCH", "PYTORCH_", "CUDA_", "NVIDIA_", "GRADER_TEST_")

#: Paths of the grading process's caches: outside the sandbox's file system (each worker sets its own).
ENV_DROPPED = ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR", "TORCH_HOME", "TORCH_EXTENSIONS_DIR")

#: The user the code runs as inside (its own user namespace maps it to the grader's user).
SANDBOX_UID = 1000


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing, or cannot create namespaces on this machine."""


def bwrap() -> str | None:
    return shutil.which("bwrap")


def command(argv: list[str], *, cuda: bool = False) -> list[str]:
    """``argv`` (a Python command line) wrapped in bubblewrap, with the fork server as the sandbox's PID 1."""
    tool = bwrap()
    if tool is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt install bubblewrap")
    args = [
        tool,
        "--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
        "--new-session", "--cap-drop", "ALL", "--as-pid-1",
    ]  # fmt: skip
    args += _system_mounts()
    for path in _python_paths():
        args += ["--ro-bind", str(path), str(path)]
    args += ["--dev", "/dev"]
    if cuda:
        args += _gpu_mounts()
    args += ["--remount-ro", "/dev", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm", "--proc", "/proc"]
    args += ["--size", str(SCRATCH_BYTES), "--tmpfs", SCRATCH, "--remount-ro", "/", "--chdir", SCRATCH]
    args += ["--clearenv"]
    for name, value in environment().items():
        args += ["--setenv", name, value]
    return [*args, "--", *argv]


def environment() -> dict[str, str]:
    """What the sandbox's processes see of the grading process's environment, plus where the kit is."""
    env = {k: v for k, v in os.environ.items() if (k in ENV_NAMES or k.startswith(ENV_PREFIXES)) and k not in ENV_DROPPED}
    shown = [str(p) for p in _pythonpath() if _may_show(p)]
    env.update(HOME=SCRATCH, TMPDIR=SCRATCH, PYTHONPATH=os.pathsep.join([str(KIT_ROOT), *shown]))
    env.setdefault("PATH", "/usr/bin:/bin")
    return env


def _system_mounts() -> list[str]:
    """The system's programs and libraries, read-only; merged-/usr links kept as links."""
    args: list[str] = []
    for name in ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def _python_paths() -> list[Path]:
    """The interpreter, its standard library and site-packages, ``grader/``, and PYTHONPATH entries that show no answer."""
    found = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(os.path.realpath(sys.executable)).parent}
    found |= {Path(sysconfig.get_path(key)) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    found |= set(_pythonpath())
    found.add(ENGINE)
    system = ("/usr/", "/bin/", "/lib/", "/lib64/")  # bound already
    kept = sorted(p.resolve() for p in found if p.exists() and _may_show(p) and not str(p.resolve()).startswith(system))
    # an ancestor of another entry covers it
    return [p for p in kept if not any(q != p and q in p.parents for q in kept)]


def _pythonpath() -> list[Path]:
    return [Path(p).resolve() for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def _may_show(path: Path) -> bool:
    """A folder the sandbox may show: it neither holds the kit's root (so every hidden folder) nor lies in a hidden one."""
    path = path.resolve()
    if path == KIT_ROOT or path in KIT_ROOT.parents:
        return False
    return not any(path == h or h in path.parents or path in h.parents for h in HIDDEN)


def _gpu_mounts() -> list[str]:
    """NVIDIA's device nodes, and ``/sys`` where its driver and NVML look, for workers told to use CUDA."""
    args: list[str] = []
    for node in sorted(Path("/dev").glob("nvidia*")):
        args += ["--dev-bind", str(node), str(node)]
    return args + ["--ro-bind", "/sys", "/sys"]


@functools.lru_cache(maxsize=1)
def problem() -> str | None:
    """Why the sandbox cannot start on this machine, or ``None`` when it can (tried once per process)."""
    try:
        argv = command([os.path.realpath(sys.executable), "-I", "-c", "import sys"])
    except SandboxUnavailable as err:
        return str(err)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap could not run: {err}"
    if done.returncode != 0:
        return f"bubblewrap could not start a sandbox (exit {done.returncode}): {done.stderr.strip()[-500:]}"
    return None
