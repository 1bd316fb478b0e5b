"""Build QEMU command lines for booting the hypervisor, and drain its
console socket (shared by scripts/run-qemu, scripts/bench and
tests/run.py). Python standard library only.

Firmware: "uefi" (OVMF, package ovmf) or "bios" (SeaBIOS, QEMU's default).
Images: an ESP folder (our EFI loader; UEFI only) or a GRUB ISO (either).
Acceleration: TCG by default (-cpu max has SVM+NPT: the AMD-V path); with
kvm=True, `-accel kvm -cpu host`, for hosts whose /dev/kvm offers nested
virtualization (real VT-x or AMD-V under the hypervisor).
"""
import os
import shutil
import tempfile

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


class QemuError(Exception):
    pass


def qemu_binary():
    exe = shutil.which("qemu-system-x86_64")
    if not exe:
        raise QemuError("qemu-system-x86_64 not found: run 'apt-get install -t "
                        "bookworm-backports qemu-system-x86' (see README)")
    return exe


def ovmf_vars_copy(workdir):
    """OVMF writes its variable store: give each run its own copy."""
    if not os.path.exists(OVMF_CODE):
        raise QemuError(f"{OVMF_CODE} not found: run 'apt-get install ovmf'")
    path = os.path.join(workdir, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, path)
    return path


def build_cmd(*, esp=None, iso=None, kernel=None, firmware=None, machine="q35", smp=2, mem=512,
              cpu="max", kvm=False, serial="stdio", workdir=None, extra=()):
    """Return the argument list. serial: "stdio" (console on the terminal,
    with QEMU's monitor on Ctrl-A c), "socket:SOCKET,LOG" (a unix socket to
    type into, output also logged to LOG by QEMU), "socket-wait:SOCKET" (the
    same, QEMU waiting for its client, which keeps the log: QEMU 10's
    logfile sometimes has a byte twice that the socket had once) or a file
    path to log into.
    kernel: (ELF, command line) booted with QEMU's -kernel and -append
    instead of an image (a multiboot test guest without the hypervisor)."""
    if (esp is not None) + (iso is not None) + (kernel is not None) != 1:
        raise QemuError("give exactly one of an ESP folder, an ISO or a kernel")
    if firmware is None:
        firmware = "uefi" if esp else "bios"
    if esp and firmware != "uefi":
        raise QemuError("an ESP folder boots only under UEFI firmware")
    workdir = workdir or tempfile.mkdtemp(prefix="hv-qemu-")
    cmd = [qemu_binary(), "-machine", machine, "-smp", str(smp), "-m", f"{mem}M",
           "-no-reboot", "-display", "none"]
    if kvm:
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            raise QemuError("--kvm needs a usable /dev/kvm with nested virtualization")
        cmd += ["-accel", "kvm", "-cpu", "host"]
    else:
        cmd += ["-accel", "tcg", "-cpu", cpu]
    if firmware == "uefi":
        cmd += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={ovmf_vars_copy(workdir)}"]
    if esp:
        cmd += ["-drive", f"format=raw,file=fat:rw:{os.path.abspath(esp)}"]
    elif iso:
        cmd += ["-cdrom", os.path.abspath(iso), "-boot", "d"]
    else:
        cmd += ["-kernel", os.path.abspath(kernel[0]), "-append", kernel[1]]
    if serial == "stdio":
        cmd += ["-serial", "mon:stdio"]
    elif serial.startswith("socket:"):
        # The console on a unix socket (for a program to type into), with
        # everything it prints also logged to serial_log.
        sock, log = serial[len("socket:"):].split(",", 1)
        cmd += ["-chardev", f"socket,id=con0,path={sock},server=on,wait=off,logfile={log}",
                "-serial", "chardev:con0", "-monitor", "none"]
    elif serial.startswith("socket-wait:"):
        sock = serial[len("socket-wait:"):]
        cmd += ["-chardev", f"socket,id=con0,path={sock},server=on,wait=on",
                "-serial", "chardev:con0", "-monitor", "none"]
    else:
        cmd += ["-serial", f"file:{serial}", "-monitor", "none"]
    return cmd + list(extra)


def drain(sock):
    """Read and drop everything a console socket sends (run in a thread):
    a socket nobody reads fills, QEMU then stops taking the UART's output
    and the guest's console stalls. The log file keeps a copy."""
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
