"""CPU time spent by each party during a measurement, read from /proc (Linux only).

On a small machine the server, PostgreSQL and the load generator compete for
the same cores, so throughput is bounded by total CPU per request. Splitting
that CPU by party says where the time goes without any profiler.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CpuTimes:
    """User and system CPU seconds."""

    user: float = 0.0
    system: float = 0.0

    def __sub__(self, other: CpuTimes) -> CpuTimes:
        return CpuTimes(self.user - other.user, self.system - other.system)

    def __add__(self, other: CpuTimes) -> CpuTimes:
        return CpuTimes(self.user + other.user, self.system + other.system)

    @property
    def total(self) -> float:
        return self.user + self.system


def _stat(pid: int) -> tuple[int, list[str]] | None:
    """(ppid, fields after the command name) of PID, or None if it is gone or unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    rest = text[text.rfind(")") + 2 :].split()
    return int(rest[1]), rest


def tree_times(root: int | None) -> CpuTimes:
    """CPU of ROOT and all its live descendants, plus what their reaped children used.

    A parent's cutime/cstime hold the CPU of children it has waited for, so
    short-lived processes (pgbench's backends, exited gunicorn workers) still count.
    """
    if root is None or not Path("/proc").is_dir():
        return CpuTimes()
    stats: dict[int, tuple[int, list[str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = st
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    user = system = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid not in stats:
            continue
        f = stats[pid][1]
        # Fields 14-17 of /proc/PID/stat: utime stime cutime cstime (index 11.. after the name).
        user += int(f[11]) + int(f[13])
        system += int(f[12]) + int(f[14])
        todo.extend(children.get(pid, ()))
    return CpuTimes(user / _TICK, system / _TICK)


def child_pids(parent: int) -> list[int]:
    """PIDs of the live children of PARENT (a gunicorn master's workers), ascending."""
    if not Path("/proc").is_dir():
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (st := _stat(int(entry.name))) is not None and st[0] == parent:
            found.append(int(entry.name))
    return sorted(found)


def children_times() -> CpuTimes:
    """CPU of this process's waited-for children (wrk, pgbench once they have exited)."""
    t = os.times()
    return CpuTimes(t.children_user, t.children_system)


def postmaster_pid(devdb_root: Path) -> int | None:
    """PID of the private server's postmaster (first line of postmaster.pid)."""
    try:
        return int((devdb_root / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class MachineTimes:
    """Whole-machine CPU seconds since boot, from the first line of /proc/stat."""

    processes: float = 0.0  # user + nice + system: time charged to some process
    interrupts: float = 0.0  # irq + softirq: loopback TCP is mostly softirq, charged to nobody
    total: float = 0.0  # everything, idle included

    def __sub__(self, other: MachineTimes) -> MachineTimes:
        return MachineTimes(
            self.processes - other.processes, self.interrupts - other.interrupts, self.total - other.total
        )


def machine_times() -> MachineTimes:
    """CPU seconds of the whole machine since boot (all cores together)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return MachineTimes()
    # cpu user nice system idle iowait irq softirq steal ...; guest time is already inside user/nice.
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    total = user + nice + system + idle + iowait + irq + softirq + steal
    return MachineTimes((user + nice + system) / _TICK, (irq + softirq) / _TICK, total / _TICK)
