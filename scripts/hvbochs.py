"""Build Bochs command lines for booting the hypervisor's GRUB ISO (shared by
scripts/run-bochs and the test runner). Python standard library only.

Bochs is the project's only VT-x platform: QEMU's TCG has no VMX, Bochs 2.7
emulates VMX with EPT, VPID, unrestricted guest and x2APIC, on SMP. Debian's
packages: bochs, bochsbios, vgabios, and one GUI plugin to satisfy bochs's
dependency (bochs-term is the smallest; the rfb display used here is in
bochs itself). Only a BIOS (Bochs's rombios): this covers the
multiboot2-bios path.

build_bochs() writes a bochsrc and a debugger command file into workdir and
returns the argv. The machine it describes:
- headless: Debian's build has no `nogui`; `rfb` with timeout=0 starts
  without waiting for a VNC viewer. rfb listens on TCP 5900..5949 on all
  addresses, so the argv is wrapped in `unshare --net` where that works
  (a private network namespace: no listener on the host's interfaces and
  no port clashes between parallel runs);
- never stops for a person: Bochs is built with its debugger, whose prompt
  is passed with `-rc CMDS`: `c`, then (should anything, such as a SIGINT,
  stop the simulation) any `on_break` commands and `quit`. Give it stdin
  from /dev/null all the same. Panics are fatal (Bochs exits, status 1);
  a triple fault is a panic rather than a reset (reset_on_triple_fault=0,
  like QEMU's -no-reboot). SIGTERM ends it at once;
- powers off: the guest's ACPI S5 (PIIX4 PM1a_CNT at 0xb004, SLP_TYP 0 per
  the BIOS's \\_S5, plus SLP_EN: `outw 0xb004, 0x2000`) ends Bochs with
  "ACPI control: soft power off" (exit status 1 as for any panic; the log
  tells the two apart);
- fast: clock sync=none (emulated time follows instructions, not the host
  clock) with a fixed time0 for repeatable runs, and no sound.
"""
import os
import shutil
import subprocess
import tempfile

BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGABIOS = "/usr/share/bochs/VGABIOS-lgpl-latest"
APT = "apt-get install bochs bochs-term bochsbios vgabios"

# Emulated instructions per emulated second. With sync=none it does not
# change how fast Bochs runs, only how many instructions an emulated second
# lasts for the PIT, RTC, HPET, ACPI PM timer and so the BIOS's waits
# (lower is faster: 200M boots to the summary line in ~13 s, 10M in ~2 s);
# the TSC counts instructions, so a guest calibrating it sees ~ips Hz.
# Much below 10M, timer interrupts come every few thousand instructions.
DEFAULT_IPS = 10_000_000
# 2024-01-01 00:00:00 UTC: the RTC starts here on every run.
TIME0 = 1704067200

# How Bochs says why it stopped: its log's PANIC line (also printed on its
# stdout after "Bochs is exiting with the following message:").
POWEROFF_MSG = "ACPI control: soft power off"
TRIPLE_FAULT_MSG = "exception(): 3rd"


class BochsError(Exception):
    pass


def bochs_binary():
    exe = shutil.which("bochs")
    if not exe:
        raise BochsError(f"bochs not found: run '{APT}'")
    for f in (BIOS, VGABIOS):
        if not os.path.exists(f):
            raise BochsError(f"{f} not found: run '{APT}'")
    return exe


_netns = None


def netns_prefix():
    """`unshare --net` (or, not as root, with --map-root-user) if this
    machine allows it, else nothing; checked once."""
    global _netns
    if _netns is None:
        _netns = []
        exe = shutil.which("unshare")
        for pre in ([exe, "--net"], [exe, "--map-root-user", "--net"]) if exe else ():
            try:
                ok = subprocess.run(pre + ["true"], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    timeout=10).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
            if ok:
                _netns = pre
                break
    return list(_netns)


def bochsrc_text(iso, *, cpus=2, mem=512, serial_log, log, cpu_model="corei7_skylake_x",
                 ips=DEFAULT_IPS, time0=TIME0, extra=()):
    if cpus < 1:
        raise BochsError("cpus must be at least 1")
    lines = [
        f"megs: {mem}",
        f"cpu: model={cpu_model}, count={cpus}, ips={ips}, reset_on_triple_fault=0",
        f"romimage: file={BIOS}",
        f"vgaromimage: file={VGABIOS}",
        f'ata0-master: type=cdrom, path="{os.path.abspath(iso)}", status=inserted',
        "ata1: enabled=0",
        "boot: cdrom",
        'display_library: rfb, options="timeout=0"',
        f'com1: enabled=1, mode=file, dev="{os.path.abspath(serial_log)}"',
        f'log: "{os.path.abspath(log)}"',
        f"clock: sync=none, time0={time0}",
        "sound: driver=dummy",
        "speaker: enabled=0",
        "panic: action=fatal",
        "error: action=report",
        "info: action=report",
        "debug: action=ignore",
    ]
    return "\n".join(lines + list(extra)) + "\n"


def build_bochs(iso, *, cpus=2, mem=512, serial_log=None, workdir=None,
                cpu_model="corei7_skylake_x", ips=DEFAULT_IPS, time0=TIME0,
                netns=True, extra=(), on_break=()):
    """Write WORKDIR/bochsrc and WORKDIR/bochs.cmds and return the argv:
    [unshare --net] bochs -q -f BOCHSRC -rc CMDS. The serial console goes to
    serial_log (default WORKDIR/serial.log), Bochs's own log to
    WORKDIR/bochs.log. extra: more bochsrc lines (a later line overrides an
    earlier one). on_break: debugger commands for when the simulation is
    stopped by a SIGINT, e.g. `writemem "FILE" ADDR LEN` to dump guest
    physical memory; Bochs quits after them. Run it with stdin from
    /dev/null."""
    if not os.path.isfile(iso):
        raise BochsError(f"{iso}: no such ISO (run make)")
    exe = bochs_binary()
    workdir = os.path.abspath(workdir or tempfile.mkdtemp(prefix="hv-bochs-"))
    os.makedirs(workdir, exist_ok=True)
    serial_log = serial_log or os.path.join(workdir, "serial.log")
    rc = os.path.join(workdir, "bochsrc")
    cmds = os.path.join(workdir, "bochs.cmds")
    with open(rc, "w") as f:
        f.write(bochsrc_text(iso, cpus=cpus, mem=mem, serial_log=serial_log,
                             log=os.path.join(workdir, "bochs.log"), cpu_model=cpu_model,
                             ips=ips, time0=time0, extra=extra))
    with open(cmds, "w") as f:
        f.write("".join(c + "\n" for c in ["c", *on_break, "quit"]))
    pre = netns_prefix() if netns else []
    return pre + [exe, "-q", "-f", rc, "-rc", cmds]


def exit_reason(workdir):
    """Why Bochs stopped, from WORKDIR/bochs.log: ("poweroff", msg) for the
    guest's ACPI S5, ("triple-fault", msg), ("panic", msg) for any other
    Bochs panic, or (None, None) if it logged none (killed, or still
    running)."""
    try:
        with open(os.path.join(workdir, "bochs.log"), errors="replace") as f:
            panics = [line.split(">>PANIC<<", 1)[1].strip() for line in f if ">>PANIC<<" in line]
    except FileNotFoundError:
        return None, None
    if not panics:
        return None, None
    msg = panics[0]
    if POWEROFF_MSG in msg:
        return "poweroff", msg
    if TRIPLE_FAULT_MSG in msg:
        return "triple-fault", msg
    return "panic", msg
