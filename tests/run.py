#!/usr/bin/env python3
"""The test runner behind `make test`: host unit tests, short libFuzzer
runs, the clang build, and integration tests that boot the real image
under QEMU.

Each integration case boots one image (GRUB ISO or ESP folder) with a
timeout, watches the serial log, and passes when every expected line has
appeared (then QEMU is stopped at once). A forbidden line, QEMU exiting or
the timeout fails the case. Serial logs are kept in BUILD/test-logs/; the
tail of a failing one is printed.

The last line is always `N passed, N failed`.

  tests/run.py [--build DIR] [--only SUBSTRING] [--jobs N] [--list] [--kvm]

--kvm runs the QEMU cases on the host's real VT-x or AMD-V (QEMU with
-accel kvm -cpu host), for machines whose /dev/kvm offers nested
virtualization; the Bochs cases still run under Bochs.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import socket
import struct
import threading
import subprocess
import sys
import tempfile
import time
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import hvbochs  # noqa: E402
import hvqemu  # noqa: E402

# --kvm: QEMU cases run with -accel kvm -cpu host (real VT-x or AMD-V via
# nested virtualization); cases that need a particular emulated CPU are
# skipped and the vendor in expected lines is whichever the host has.
KVM = False

# Anything a Linux guest complains about fails its case -- but RETBleed's
# warning, which is about Bochs's Skylake-X model (no IBRS in CPUID).
LINUX_COMPLAINTS = r"\[linux\] (?!.*RETBleed|.*mce: Unable to init MCE device).*(WARNING|BUG|Call Trace|Kernel panic|ACPI Error|" \
                   r"ACPI Warning|Unable to|unchecked MSR|calibration failed|[Ff]irmware [Bb]ug)"
LINUX_PROMPT = r"\[linux\] hvlinux: shell on the console(.|\n)*hvlinux# "
SUMMARY = r"hv: boot=(?P<boot>\S+) cpu=(?P<cpu>\S+) cpus=(?P<cpus>\d+) ram=(?P<ram>\d+)MiB"
PANIC = r"hv: PANIC"


class Case:
    def __init__(self, name, *, image, firmware, expect, forbid=(PANIC,), machine="q35",
                 smp=2, mem=512, cpu="max", cmdline="", timeout=120, check=None,
                 acpi_tables=(), watch_com2=False, config=None, base=None, files=(),
                 guests=(), emulator="qemu", console_input=(), qemu_args=(), hvconfig_flags=(),
                 disks=(), tcg_single=False, grub=None):
        self.name, self.image, self.firmware = name, image, firmware
        # acpi_tables: (filename, bytes) pairs given to QEMU with -acpitable;
        # watch_com2: the console is expected on the second UART.
        self.acpi_tables, self.watch_com2 = list(acpi_tables), watch_com2
        # config: a TOML of tests/configs/ (default: the built-in default);
        # base: the folder its guest paths are relative to (default BUILD/guests).
        self.config, self.base = config, base
        # files: more files (paths from the repository root) the config
        # names by their base name, found next to the guest images: they
        # are linked with them into one base folder. guests: images under
        # BUILD/guests the case needs beyond the default build's (made with
        # make when missing).
        self.files, self.guests = list(files), list(guests)
        # "qemu" (TCG: the AMD-V path) or "bochs" (the VT-x path, BIOS only).
        self.emulator = emulator
        # console_input: (regex, bytes) pairs: once regex has appeared in the
        # log (or regex(log) is true, for a callable), the bytes are typed on
        # the console (QEMU only), in order.
        self.console_input = list(console_input)
        # qemu_args: more QEMU arguments (an IOMMU, PCI devices), after the
        # runner's own; hvconfig_flags: passed to `hvconfig compile`.
        self.qemu_args, self.hvconfig_flags = list(qemu_args), list(hvconfig_flags)
        # disks: (file name, MiB) of empty raw images made in the case's
        # work folder before QEMU starts; "{workdir}" in qemu_args is
        # that folder (also case.workdir, for a check to look at them).
        self.disks, self.workdir = list(disks), None
        # tcg_single: one TCG thread for all vCPUs (-accel tcg,thread=single)
        # where QEMU's multi-threaded TCG has been seen to crash.
        self.tcg_single = tcg_single
        # grub: a test guest booted by GRUB alone, no hypervisor (image
        # "iso"): dict(elf=NAME under BUILD/guests, cmdline=..., mb1=bool,
        # modules=[(path from the repository root, string)]); or
        # dict(elf=..., cmdline=..., kernel=True): by QEMU's -kernel.
        self.grub = grub
        self.expect, self.forbid = list(expect), list(forbid)
        self.machine, self.smp, self.mem, self.cpu = machine, smp, mem, cpu
        self.cmdline, self.timeout, self.check = cmdline, timeout, check


def summary(boot, cpus, mem):
    """The boot summary line, with ram= within 64 MiB below -m."""
    def check(log):
        m = re.search(SUMMARY, log)
        ram = int(m.group("ram"))
        if not mem - 64 <= ram <= mem:
            return f"ram={ram}MiB, expected {mem - 64}..{mem} for -m {mem}"
        return None
    return rf"hv: boot={boot} cpu=amd cpus={cpus} ram=\d+MiB\r?$", check


def guest_argv0(config, domain, guest="hvtest"):
    """The line a test guest prints of its command line in `domain` of
    `config`: "<kernel> <cmdline>", the `kernel` path as the TOML writes
    it first (argv[0]); hvtest says it on its start line, mb1test on one
    of its own."""
    with open(os.path.join(ROOT, config), "rb") as f:
        dom = next(d for d in tomllib.load(f)["domain"] if d["name"] == domain)
    kernel, cmdline = dom["kernel"], dom.get("cmdline", "")
    line = re.escape(f"{kernel} {cmdline}" if cmdline else kernel)
    if guest == "mb1test":
        return [rf"\[{domain}\] mb1test: cmdline '{line}'",
                rf"\[{domain}\] mb1test: argv0 '{re.escape(kernel)}'"]
    return [rf"\[{domain}\] hvtest: start \(loader 'hv', cmdline '{line}', "
            rf"argv0 '{re.escape(kernel)}'\)"]


def integration_cases():
    cases = []

    def boot(name, image, firmware, boot_name, machine, smp, mem):
        line, check = summary(boot_name, smp, mem)
        cases.append(Case(name, image=image, firmware=firmware, machine=machine, smp=smp,
                          mem=mem, expect=[line], check=check))

    # Every boot path reaches the summary line with -smp's CPU count.
    boot("boot-iso-bios-q35", "iso", "bios", "multiboot2-bios", "q35", 2, 512)
    boot("boot-iso-bios-i440fx", "iso", "bios", "multiboot2-bios", "pc", 3, 256)
    boot("boot-iso-uefi-q35", "iso", "uefi", "multiboot2-uefi", "q35", 4, 512)
    boot("boot-esp-uefi-q35", "esp", "uefi", "uefi", "q35", 3, 1024)

    # The default configuration: hvtest in a domain on AMD-V, all checks
    # pass, it powers its domain off, the counters are printed, then the
    # hypervisor powers the machine off.
    hvtest_ok = [rf"\[test0\] hvtest: PASS {c}" for c in
                 ("boot-magic", "cpuid-hypervisor", "memory-map", "memory-rw", "port-refused",
                  "hypercall", "long-mode")]
    # Its command line starts with the kernel's path from the configuration.
    hvtest_ok += guest_argv0("tests/configs/hvtest.toml", "test0")
    hvtest_ok += [r"\[test0\] hvtest: done, 7 passed, 0 failed",
                  r"hv: domain test0 stopped: poweroff",
                  r"hv: domain test0 exits: total=\d+ cpuid=\d+ .*io=\d+ .*hypercall=2",
                  r"hv: all domains stopped", r"hv: power: powering off"]
    for image, fw in (("iso", "bios"), ("iso", "uefi"), ("esp", "uefi")):
        cases.append(Case(f"hvtest-{image}-{fw}", image=image, firmware=fw, expect=hvtest_ok,
                          config="tests/configs/hvtest.toml", forbid=(PANIC, r"hvtest: FAIL")))

    # Hostile guests stop only themselves, with the reason the contract gives;
    # a reset request or, with on_crash = "restart", a crash restarts the
    # domain: it runs again from its kernel (and, hostile still, again...).
    restarted = [r"hv: domain evil restarting", r"hv: domain evil restarted(.|\n)*"
                 r"\[evil\] hvtest: start"]

    def hostile(what, expect, image="iso", firmware="bios", config=None, end=None):
        cases.append(Case(f"hostile-{config or what}-{image}", image=image, firmware=firmware,
                          config=f"tests/configs/hostile-{config or what}.toml",
                          forbid=(PANIC, r"hvtest: FAIL"),
                          expect=[rf"\[evil\] hvtest: hostile {what}: trying"] + expect +
                                 [r"hv: domain evil exits: total=\d+"] +
                                 (end or [r"hv: all domains stopped"])))
    hostile("memory", [r"hv: domain evil stopped: memory violation at GPA 0x1001000 \(read\)"])
    hostile("port", [r"\[evil\] hvtest: PASS hostile-port",
                     r"hv: domain evil refused: ports=[1-9]", r"hv: domain evil stopped: reboot"],
            end=restarted)
    hostile("triple", [r"hv: domain evil stopped: triple fault"])
    hostile("triple", [r"hv: domain evil stopped: triple fault"], config="triple-restart",
            end=restarted)
    hostile("memory", [r"hv: domain evil stopped: memory violation at GPA 0x1001000"],
            image="esp", firmware="uefi")
    # IPIs at another domain's CPU are refused and counted; that domain
    # runs on (it still takes a line of input afterwards).
    cases.append(Case("hostile-ipi", image="iso", firmware="bios", smp=2,
                      config="tests/configs/hostile-ipi.toml",
                      forbid=(PANIC, r"hvtest: FAIL", r"hv: domain victim stopped(.|\n)*hv: domain evil stopped"),
                      console_input=[(r"hv: domain evil stopped", b"\x1dn"),
                                     (r"hv: console: input goes to victim", b"ok\r")],
                      expect=[r"\[evil\] hvtest: PASS hostile-ipi",
                              r"hv: domain evil refused: ports=\d+ msrs=0 ipis=4 mmio=0",
                              r"\[victim\] hvtest: PASS console-input input 'ok'",
                              r"hv: all domains stopped"]))
    # A kernel that is no kernel: refused with a clear line, nothing runs.
    cases.append(Case("bad-kernel", image="iso", firmware="bios", config="tests/configs/bad-kernel.toml",
                      base=".", expect=[r"hv: domain broken: kernel: .*bad magic",
                                        r"hv: domain broken: not started",
                                        r"hv: vmm: no domain could be started"]))

    # The Intel path: the same image under Bochs (VT-x, EPT, VPID,
    # unrestricted guest). Few and sharp: Bochs is the slow one.
    intel_ok = [l.replace("cpu=amd", "cpu=intel") for l in hvtest_ok]
    intel_ok[-1] = r"hv: power: powering off"
    cases.append(Case("bochs-hvtest", image="iso", firmware="bios", emulator="bochs", smp=1,
                      mem=256, config="tests/configs/hvtest.toml", expect=[r"hv: boot=multiboot2-bios cpu=intel cpus=1 ram=\d+MiB",
                                       r"hv: cpu: VT-x with EPT"] + intel_ok,
                      forbid=(PANIC, r"hvtest: FAIL"), timeout=600))
    cases.append(Case("bochs-hostile-memory", image="iso", firmware="bios", emulator="bochs",
                      smp=1, mem=256, config="tests/configs/hostile-memory.toml",
                      forbid=(PANIC, r"hvtest: FAIL"), timeout=600,
                      expect=[r"hv: cpu: VT-x with EPT", r"\[evil\] hvtest: hostile memory: trying",
                              r"hv: domain evil stopped: memory violation at GPA 0x1001000 \(read\)",
                              r"hv: domain evil exits: total=\d+", r"hv: all domains stopped"]))

    # Static domains side by side on their own CPUs (4 CPUs, 3 domains of
    # different sizes, one hostile): the hostile one stops alone, the others
    # finish, and "all domains stopped" comes once, after the last.
    def done(name, mib):
        return [rf"\[{name}\] hvtest: PASS memory-map", rf"\[{name}\] hvtest: PASS memory-rw \({mib - 1} MiB\)",
                rf"\[{name}\] hvtest: done, 7 passed, 0 failed", rf"hv: domain {name} stopped: poweroff"]
    cases.append(Case("domains-3-on-4-cpus", image="iso", firmware="bios", smp=4,
                      config="tests/configs/three-domains.toml", forbid=(PANIC, r"hvtest: FAIL"),
                      expect=[r"hv: boot=multiboot2-bios cpu=amd cpus=4 ",
                              r"hv: domain big: 48 MiB at host 0x[0-9a-f]+, entry 0x[0-9a-f]+, CPUs 2,3",
                              r"hv: domain evil stopped: memory violation at GPA 0x801000"] +
                             done("small", 16) + done("big", 48) +
                             [r"hv: all domains stopped(?!(.|\n)*hv: domain \S+ stopped)",
                              r"hv: power: powering off"]))
    # A multiboot (version 1) kernel with modules from the configuration:
    # it sees its command line and each module with its args.
    cases.append(Case("mb1-modules", image="iso", firmware="bios", smp=2,
                      config="tests/configs/mb1-modules.toml", guests=["mb1test.elf"],
                      files=["tests/configs/mb1-mod-a.txt", "tests/configs/mb1-mod-b.txt"],
                      forbid=(PANIC, r"mb1test: FAIL"),
                      expect=guest_argv0("tests/configs/mb1-modules.toml", "mb1", "mb1test") +
                             [r"\[mb1\] mb1test: module 0 'alpha one' 34 bytes, "
                              r"first line 'this is module a'",
                              r"\[mb1\] mb1test: module 1 'beta' 17 bytes, "
                              r"first line 'this is module b'",
                              r"\[mb1\] mb1test: PASS", r"hv: domain mb1 stopped: poweroff"]))
    # The same guests without the hypervisor, for what other loaders give
    # as the command line: GRUB 2 gives the arguments alone (it skips the
    # file name: its `multiboot`/`multiboot2 /hv/hv.elf ARGS`), QEMU's
    # -kernel gives the file name first, as the hypervisor does.
    cases.append(Case("grub-bare-hvtest", image="iso", firmware="bios", forbid=(PANIC,),
                      grub=dict(elf="hvtest.elf", cmdline="expect-mem=64M"),
                      expect=[r"^hvtest: start \(loader 'GRUB [^']*', cmdline 'expect-mem=64M', "
                              r"argv0 'expect-mem=64M'\)", r"^hvtest: PASS boot-magic",
                              r"^hvtest: done, \d+ passed"]))
    mods = [("tests/configs/mb1-mod-a.txt", "alpha one"), ("tests/configs/mb1-mod-b.txt", "beta")]
    cases.append(Case("grub-bare-mb1test", image="iso", firmware="bios", forbid=(PANIC, r"FAIL"),
                      grub=dict(elf="mb1test.elf", cmdline="expect-mods=2 hello", mb1=True,
                                modules=mods),
                      expect=[r"^mb1test: cmdline 'expect-mods=2 hello'",
                              r"^mb1test: argv0 'expect-mods=2'",
                              r"^mb1test: module 0 'alpha one' 34 bytes",
                              r"^mb1test: module 1 'beta' 17 bytes", r"^mb1test: PASS"]))
    cases.append(Case("qemu-kernel-mb1test", image="iso", firmware="bios", forbid=(PANIC, r"FAIL"),
                      grub=dict(elf="mb1test.elf", cmdline="expect-mods=0 hello", kernel=True),
                      expect=[r"^mb1test: cmdline '\S*/mb1test\.elf expect-mods=0 hello'",
                              r"^mb1test: argv0 '\S*/mb1test\.elf'", r"^mb1test: PASS"]))
    cases.append(Case("domains-explicit-ranges", image="esp", firmware="uefi", smp=2,
                      config="tests/configs/explicit-ranges.toml", forbid=(PANIC, r"hvtest: FAIL"),
                      expect=[r"hv: domain pinned: 16 MiB at host 0x10000000 \(and more ranges\)"] +
                             done("pinned", 16) + [r"hv: all domains stopped"]))
    # Console input goes to the domain in focus; Ctrl-] n moves the focus.
    cases.append(Case("console-input-focus", image="iso", firmware="bios", smp=2,
                      config="tests/configs/console-input.toml", forbid=(PANIC, r"hvtest: FAIL"),
                      console_input=[
                          (r"\[second\] hvtest: waiting for a line of input(.|\n)*"
                           r"hv: console: input goes to first|hv: console: input goes to first(.|\n)*"
                           r"\[second\] hvtest: waiting for a line of input", b"hello first\r"),
                          (r"\[first\] hvtest: PASS console-input", b"\x1dn"),
                          (r"hv: console: input goes to second", b"hi second\r")],
                      expect=[r"\[first\] hvtest: PASS console-input input 'hello first'",
                              r"hv: console: input goes to second",
                              r"\[second\] hvtest: PASS console-input input 'hi second'",
                              r"hv: all domains stopped"]))

    # A stock Debian kernel in a 2-CPU domain beside an hvtest domain
    # (AMD-V): it sees its CPUs and memory, runs a command typed on the
    # console, `reboot -f` restarts its domain, and `poweroff -f` stops
    # only its domain -- the other one still takes input afterwards.
    linux_mem_kb = 160 * 1024

    def linux_memtotal(log):
        m = re.search(r"\[linux\] hvlinux: up, nproc=\d+ memtotal_kb=(\d+)", log)
        kb = int(m.group(1))
        if not linux_mem_kb // 2 <= kb <= linux_mem_kb:
            return f"MemTotal {kb} kB does not fit a {linux_mem_kb} kB domain"
        return None
    linux_complaints, prompt = LINUX_COMPLAINTS, LINUX_PROMPT
    cases.append(Case("linux-2cpu-beside-hvtest", image="iso", firmware="bios", smp=4, mem=512,
                      config="tests/configs/linux-2cpu.toml",
                      guests=["linux/bzImage", "linux/initrd.gz", "hvtest.elf"],
                      forbid=(PANIC, r"hvtest: FAIL", linux_complaints,
                              r"hv: domain beside stopped(.|\n)*hv: domain linux stopped"),
                      timeout=600, check=linux_memtotal,
                      console_input=[
                          (prompt, b"echo hv-$((6*7)) cpus=$(nproc) online=$(cat /sys/devices/system/cpu/online)\r"),
                          (r"\[linux\] hv-42 cpus=2 online=0-1", b"reboot -f\r"),
                          (r"hv: domain linux restarted(.|\n)*" + prompt, b"poweroff -f\r"),
                          (r"hv: domain linux stopped: poweroff", b"\x1dn"),
                          (r"hv: console: input goes to beside", b"still here\r")],
                      expect=[r"\[linux\] hvlinux: up, nproc=2 memtotal_kb=\d+",
                              r"\[linux\] hv-42 cpus=2 online=0-1",
                              r"hv: domain linux stopped: reboot",
                              r"hv: domain linux restarted(.|\n)*\[linux\] hvlinux: up, nproc=2 ",
                              r"hv: domain linux stopped: poweroff",
                              r"hv: domain linux exits: total=\d+",
                              r"\[beside\] hvtest: PASS console-input input 'still here'",
                              r"hv: all domains stopped"]))
    # What `make run` boots: the default configuration from the ESP under
    # UEFI -- a Linux shell in one domain, the test guest beside it.
    cases.append(Case("default-config-uefi", image="esp", firmware="uefi", smp=4, mem=1024,
                      forbid=(PANIC, r"hvtest: FAIL", linux_complaints), timeout=600,
                      console_input=[
                          (r"\[test0\] hvtest: waiting for a line(.|\n)*" + prompt +
                           r"|" + prompt + r"(.|\n)*\[test0\] hvtest: waiting for a line",
                           b"uname -sr; poweroff -f\r"),
                          (r"hv: domain linux stopped: poweroff", b"\x1dn"),
                          (r"hv: console: input goes to test0", b"bye\r")],
                      expect=[r"hv: boot=uefi cpu=amd cpus=4 ",
                              r"\[linux\] hvlinux: up, nproc=2 memtotal_kb=\d+",
                              r"\[linux\] Linux 6\.\d+\.\d+",
                              r"hv: domain linux stopped: poweroff",
                              r"\[test0\] hvtest: PASS console-input input 'bye'",
                              r"hv: all domains stopped"]))
    # The same kernel on VT-x (Bochs), one CPU and two: boots, reports, powers off.
    # Its shell runs one command (Bochs has no console input here).
    for n in (1, 2):
        cases.append(Case("bochs-linux" + ("-2cpu" if n == 2 else ""), image="iso", firmware="bios",
                          emulator="bochs", smp=n, mem=256, timeout=900,
                          config="tests/configs/linux-bochs" + ("-2cpu" if n == 2 else "") + ".toml",
                          guests=["linux/bzImage", "linux/initrd.gz"],
                          forbid=(PANIC, linux_complaints),
                          expect=[rf"\[linux\] hvlinux: nproc={n} memtotal_kb=\d+",
                                  rf"\[linux\] hvlinux: cpus online: {'0-1' if n == 2 else '0'}",
                                  r"\[linux\] (hvlinux# )?hvlinux: shell says 42",
                                  r"\[linux\] hvlinux: done", r"hv: domain linux stopped: poweroff",
                                  r"hv: all domains stopped"]))

    # The same 2-CPU kernel on a CPU without x2APIC (AMD before Zen 2,
    # Intel before Ivy Bridge): its LAPICs in xAPIC mode through the
    # emulated xAPIC page, its IPIs (SMP bring-up, flat logical) filtered.
    cases.append(Case("linux-xapic", image="iso", firmware="bios", cpu="max,-x2apic", smp=2,
                      mem=256, timeout=600, config="tests/configs/linux-bochs-2cpu.toml",
                      guests=["linux/bzImage", "linux/initrd.gz"],
                      forbid=(PANIC, linux_complaints, r"stopped: memory violation"),
                      expect=[r"hv: boot=multiboot2-bios cpu=amd cpus=2 ",
                              r"\[linux\] hvlinux: nproc=2 memtotal_kb=\d+",
                              r"\[linux\] hvlinux: cpus online: 0-1",
                              r"\[linux\] (hvlinux# )?hvlinux: shell says 42",
                              r"\[linux\] hvlinux: done", r"hv: domain linux stopped: poweroff",
                              r"hv: domain linux exits: total=\d+",
                              r"hv: all domains stopped"]))

    def both_vendors(name, config, expect, smp=1, forbid=()):
        """A one-domain hvtest case on AMD-V (QEMU) and VT-x (Bochs);
        expect(emu) gives the lines each must show."""
        for emu in ("qemu", "bochs"):
            cases.append(Case(f"{name}-{emu}", image="iso", firmware="bios", smp=smp, mem=256,
                              emulator=emu, config=config, timeout=300,
                              forbid=(PANIC, r"hvtest: FAIL") + tuple(forbid), expect=expect(emu)))

    # The PM timer and PM1a_CNT of the domain's ACPI platform, on both vendors.
    both_vendors("pm-timer", "tests/configs/pm-timer.toml",
                 lambda emu: [r"\[acpi\] hvtest: PASS pm-timer \(advanced [1-9]\d* ticks",
                              r"hv: domain acpi stopped: poweroff"])

    # IRQ 0 from the domain's PIT through its IOAPIC (vmm/dev/pit_irq.c),
    # on both vendors: served in the vCPU's HLT exit.
    both_vendors("pit-irq0", "tests/configs/pit-irq0.toml",
                 lambda emu: [r"\[pit\] hvtest: PASS pit-irq0 \(GSI 2: 20 interrupts at 1 kHz",
                              r"\[pit\] hvtest: PASS pit-irq0-pic \(vector 0x20: 20 interrupts from the 8259A",
                              r"hv: domain pit stopped: poweroff"])

    # MSRs a real CPU has: AMD's legacy performance counters (AMD-V: read
    # 0, writes dropped; VT-x: #GP, as on an Intel CPU), IA32_MISC_ENABLE's
    # writable bits, IA32_TSC writes through the TSC offset (TSC_ADJUST
    # and the TSC-deadline timer where the CPU has them: Bochs's does,
    # QEMU TCG's not).
    msr_lines = {"qemu": (r"\(AMD: 8 counter MSRs read 0, writes dropped\)", r"; no TSC_ADJUST: #GP\)"),
                 "bochs": (r"\(Intel: #GP, as on hardware\)",
                           r"; TSC_ADJUST follows it and moves it; TSC deadline fires in its time\)")}
    both_vendors("cpu-msrs", "tests/configs/cpu-msrs.toml",
                 lambda emu: [r"\[msrs\] hvtest: PASS msr-k7-perf " + msr_lines[emu][0],
                              r"\[msrs\] hvtest: PASS msr-misc-enable",
                              r"\[msrs\] hvtest: PASS msr-tsc-write \(the TSC goes on from the written value" +
                              msr_lines[emu][1],
                              r"\[msrs\] hvtest: done, 4 passed, 0 failed",
                              r"hv: domain msrs stopped: poweroff"])

    # The LAPIC a guest expects, on a domain whose boot CPU is the
    # machine's CPU 1: APIC ID 0 there, and xAPIC mode entered the way the
    # SDM allows, with its timer, EOI and IPIs through the xAPIC page.
    both_vendors("cpu-apic", "tests/configs/cpu-apic.toml", smp=2,
                 forbid=[r"stopped: memory violation"],
                 expect=lambda emu: [
                     r"\[apic\] hvtest: PASS apic-id \(0 in CPUID 1, CPUID 0xb, the x2APIC ID and LDR\)",
                     r"\[apic\] hvtest: PASS xapic \(x2APIC -> disabled -> xAPIC, the illegal steps #GP; "
                     r"10 timer interrupts, 2 exits each; fixed IPIs by physical and flat logical ID; back to x2APIC\)",
                     r"hv: domain apic stopped: poweroff"])

    # Single-step over what the hypervisor emulates (one #DB with DR6.BS
    # past each instruction), and STI's shadow ending with an emulated
    # instruction: the same lines on both vendors.
    both_vendors("single-step", "tests/configs/single-step.toml",
                 lambda emu: [r"\[step\] hvtest: PASS single-step \(10 instructions, one #DB each",
                              r"\[step\] hvtest: PASS interrupt-shadow ",
                              r"\[step\] hvtest: done, 3 passed, 0 failed",
                              r"hv: domain step stopped: poweroff"])

    # A bad image beside a good one: only the bad domain is left out.
    cases.append(Case("bad-kernel-beside-good", image="iso", firmware="bios", smp=2,
                      config="tests/configs/bad-kernel-beside-good.toml", files=["README.md"],
                      forbid=(PANIC, r"hvtest: FAIL", r"\[broken\]"),
                      expect=[r"hv: domain broken: kernel: .*bad magic",
                              r"hv: domain broken: not started"] + done("fine", 16) +
                             [r"hv: all domains stopped"]))
    # The hypervisor checks the configuration against the real machine and
    # refuses a bad one whole: no domain starts.
    cases.append(Case("config-absent-cpu", image="iso", firmware="bios", smp=2,
                      config="tests/configs/absent-cpu.toml", forbid=(PANIC, r"\[here\]"),
                      expect=[r"hv: config: domain far: CPU 3 is not on this machine \(CPUs 0-1 are\)",
                              r"hv: vmm: no domain started", r"hv: idle; halting"]))
    cases.append(Case("config-range-over-hv", image="iso", firmware="bios", smp=2,
                      config="tests/configs/range-over-hv.toml", forbid=(PANIC, r"\[greedy\]"),
                      expect=[r"hv: config: domain greedy: memory 0x1000000-0x2000000 overlaps the hypervisor",
                              r"hv: vmm: no domain started", r"hv: idle; halting"]))
    # VT-x with two CPUs and two domains, one of them triple-faulting.
    cases.append(Case("bochs-domains-2-on-2-cpus", image="iso", firmware="bios", emulator="bochs",
                      smp=2, mem=256, config="tests/configs/two-domains.toml",
                      forbid=(PANIC, r"hvtest: FAIL"), timeout=600,
                      expect=[r"hv: boot=multiboot2-bios cpu=intel cpus=2 ",
                              r"hv: domain right stopped: triple fault"] + done("left", 16) +
                             [r"hv: all domains stopped"]))

    pci_cases(cases)
    console_cases(cases)

    # A machine without usable virtualization is told so in one line.
    cases.append(Case("no-svm", image="iso", firmware="bios", cpu="max,-svm",
                      expect=[r"hv: cpu: AMD-V \(SVM\) is not available on this CPU: no domain can run"]))
    cases.append(Case("no-vmx-intel", image="iso", firmware="bios", cpu="max,vendor=GenuineIntel",
                      expect=[r"hv: cpu: VT-x \(VMX\) is not available on this CPU: no domain can run"]))
    # No ACPI at all: a clear warning, one CPU assumed, still boots.
    cases.append(Case("no-acpi", image="iso", firmware="bios", machine="pc,acpi=off",
                      expect=[r"hv: acpi: no RSDP", r"hv: boot=multiboot2-bios cpu=amd cpus=1 "]))

    # ACPI SPCR names the console: a table pointing at COM2 moves it there.
    cases.append(Case("spcr-com2", image="iso", firmware="bios", watch_com2=True,
                      acpi_tables=[("spcr.bin", spcr_table(0x2f8))],
                      expect=[r"hv: hypervisor starting", r"hv: console: switching to the SPCR UART at port 0x2f8",
                              r"hv: boot=multiboot2-bios cpu=amd cpus=2 "]))

    # Deliberate faults: protections hold and the reporter reports.
    def fault(name, expect, image="iso", firmware="bios"):
        cases.append(Case(f"fault-{name}", image=image, firmware=firmware,
                          cmdline=f"hv.selftest={name}", forbid=(),
                          expect=[r"hv: selftest: " + name] + expect +
                                 [r"hv: RIP [0-9a-f]{16}", r"hv: stack trace", r"hv: CPU 0 halted"]))
    fault("ud", [r"hv: PANIC: CPU 0: exception 6 \(#UD invalid opcode\)"])
    fault("null", [r"hv: page fault at 0x8: page not present, read, data access"])
    fault("wp", [r"hv: page fault at 0x[0-9a-f]+: protection violation, write, data access"])
    fault("nx", [r"hv: page fault at 0x[0-9a-f]+: protection violation, read, instruction fetch"])
    fault("stack", [r"hv: PANIC: CPU 0: exception 8 \(#DF double fault\)"])
    # The same reporter through the UEFI loader path.
    fault("ud", [r"hv: PANIC: CPU 0: exception 6"], image="esp", firmware="uefi")
    cases[-1].name = "fault-ud-esp"
    return cases


# QEMU's IOMMUs (listed before the devices they fence) and its edu device
# (1234:11e8, DMA and a 1 MiB BAR; TESTING.md): one at 00:05.0 to pass
# through, one at 00:06.0 that no domain gets.
# QEMU 10's amd-iommu translates only with pt=off: with its default pt=on
# emulated devices' DMA goes around it.
IOMMUS = {"vtd": ["-device", "intel-iommu,intremap=on,eim=on"], "amdvi": ["-device", "amd-iommu,pt=off,intremap=on,xtsup=on"]}
EDU = ["-device", "edu,addr=05.0,dma_mask=0xffffffffffffffff",
       "-device", "edu,addr=06.0,dma_mask=0xffffffffffffffff"]


def shell_checks(log):
    """What the shell-lifecycle run must show beyond its expect lines."""
    # Before and after 100 stops and starts (the first figure is before
    # `later` first ran: its vCPU's control page, a VMCB or VMCS, is made
    # at its first start, once).
    free = re.findall(r"hv: mem: free (\d+) KiB", log)
    if len(free) < 3 or free[1] != free[2]:
        return f"free memory changed across stop/start cycles: {free} KiB"
    # Nothing of the domains while the shell is open, but `log`'s replay.
    for m in re.finditer(r"hv: shell: domain output is held(.*?)hv: shell: closed", log, re.S):
        inside = re.sub(r"hv: log \w+: the last(.*?)hv: log \w+: end", "", m.group(1), flags=re.S)
        stray = re.search(r"^\[(ticker|linux|small|later)\] .*", inside, re.M)
        if stray:
            return f"domain output while the shell was open: {stray.group(0)[:80]!r}"
    # `log ticker` shows ticks printed while the shell held them.
    opened = log.index("hv> log ticker 3")
    shown = [int(n) for n in re.findall(r"^\[ticker\] hvtest: tick (\d+)", log[:log.rindex(
        "hv: shell: domain output is held", 0, opened)], re.M)]
    replay = re.search(r"hv: log ticker: the last.*?\n(.*?)hv: log ticker: end", log[opened:], re.S)
    ticks = [int(n) for n in re.findall(r"tick (\d+)", replay.group(1))] if replay else []
    if not ticks or max(ticks) <= max(shown, default=-1):
        return f"log ticker showed no tick held by the shell (log {ticks}, shown before {max(shown, default=-1)})"
    # The ticker kept printing and taking input while linux was stopped.
    stopped = log.index("hv: domain linux stopped: stopped by the operator")
    if not re.search(r"\[ticker\] hvtest: got 'hello ticker'", log[stopped:]):
        return "the ticker took no input after linux stopped"
    return None


def console_cases(cases):
    """The console: the shell and the lifecycle it drives, the terminal the
    domain in focus gets, output held and released, floods."""
    def count(what, n):
        return lambda log: log.count(what) >= n
    shell_open, held = b"\x1d:", "hv: shell: domain output is held"
    steps = [
        (LINUX_PROMPT, shell_open),
        (held, b"list\r"),
        (r"hv: later\s+not started", b"bogus thing\r"),
        (r"hv: shell: unknown command 'bogus'", b"\x01\x02\xfe\xff\x1b[Z\x1b[1;5Czz\r"),
        (r"hv: shell: unknown command 'zz'", b"a" * 200 + b"\r"),
        (r"hv: shell: line too long", b"info linux\r"),
        (r"hv: domain linux refused:", b"mem\r"),
        (r"hv: mem: free \d+ KiB", b"stop linux\r"),
        (r"hv: domain linux: memory scrubbed, CPUs idle", b"stop linux\r"),
        (r"hv: shell: not done: domain linux is stopped", b"start nosuch\r"),
        (r"hv: shell: no domain named 'nosuch'", b"exit\r"),
        (r"hv: shell: closed(.|\n)*\[ticker\] hvtest: tick", b"hello ticker\r"),
        (r"\[ticker\] hvtest: got 'hello ticker'", shell_open + b"start later\r"),
        (r"hv: domain later started", b"version\r"),
        (r"hv: version \S+", b"help\r"),
        (r"hv:   poweroff", b"cpus\r"),
        (r"hv: cpu 3: APIC ID \d+, domain later", b"pci\r"),
        (r"hv: pci 00:00\.0", b"iommu\r"),
        (r"hv: iommu: none", b"stats ticker\r"),
        (r"hv: domain ticker exits: total=\d+(.|\n)*hv> ", b"log ticker 3\r"),
        (r"hv: log ticker: end", b"start linux\r"),
        (r"hv: domain linux started", b"focus linux\r"),
        (r"hv: console: input goes to linux", b"\x1b[A\x15exit\r"),
        (count("hvlinux: shell on the console", 2), b"\r"),
        (r"(hvlinux# (.|\n)*){3}", b"echo back-$((6*7))\r"),
        (r"\[linux\] back-42", shell_open + b"mem\r"),
    ]
    # 100 stops and starts of one domain: nothing leaks (mem's free figure).
    for k in range(1, 101):
        steps.append((count("hv: mem: free", 2) if k == 1 else
                      count("hv: domain small started", k - 1), b"stop small\r"))
        steps.append((count("hv: domain small: memory scrubbed", k), b"start small\r"))
    steps += [(count("hv: domain small started", 100), b"mem\r"),
              (count("hv: mem: free", 3), b"restart small\r"),
              (r"hv: domain small restarted", b"stop later\r"),
              (r"hv: domain later: memory scrubbed", b"poweroff\r"),
              (r"type yes to confirm", b"no\r"),
              (r"hv: shell: not confirmed", b"poweroff\r"),
              (count("type yes to confirm", 2), b"yes\r")]
    cases.append(Case("shell-lifecycle", image="iso", firmware="bios", smp=4, mem=768,
                      config="tests/configs/shell.toml",
                      guests=["linux/bzImage", "linux/initrd.gz", "hvtest.elf"],
                      forbid=(PANIC, r"hvtest: FAIL", LINUX_COMPLAINTS), timeout=900,
                      console_input=steps, check=shell_checks,
                      expect=[r"hv: NAME\s+STATE\s+CPUS",
                              r"hv: ticker\s+running\s+0\s+8M", r"hv: linux\s+running\s+1\s+160M",
                              r"hv: later\s+not started\s+3",
                              r"hv: domain linux stopped: stopped by the operator",
                              r"hv: domain linux started(.|\n)*\[linux\] back-42",
                              r"hv: domain small restarted",
                              r"hv: domain later stopped: stopped by the operator",
                              r"hv: power: powering off"]))
    # The domain in focus drives the terminal: its sequences pass, the
    # other's are neutralised, the terminal is reset before anything else
    # prints, and a line that starts like the hypervisor's keeps its tag.
    # shell = false: the escape opens nothing, focus switching stays.
    esc = re.escape
    cases.append(Case("console-ansi", image="iso", firmware="bios", smp=2,
                      config="tests/configs/console-ansi.toml",
                      forbid=(PANIC, r"hvtest: FAIL", r"hv: shell", r"^hv: forged",
                              esc("[b] hvtest: ansi \x1b")),
                      console_input=[(r"\[b\] hvtest: tick 1\b", b"\x1d:quit\r"),
                                     (r"\[a\] hvtest: got 'quit'", b"\x1dn"),
                                     (r"hv: console: input goes to b", b"quit\r")],
                      expect=[esc("[a] hvtest: ansi \x1b[1;31mRED\x1b[0m \x1b[4Cafter-move"),
                              esc("[b] hvtest: ansi .[1;31mRED.[0m .[4Cafter-move"),
                              esc("\x1b[?1049h\x1b[2J\x1b[Hhvtest: full screen"),
                              esc("[a] hv: forged"), esc("[b] hv: forged"),
                              esc("\x18\x0f\x1b(B\x1b7\x1b[r\x1b8\x1b[0m\x1b[?25h"),
                              r"\[b\] hvtest: got 'quit'", r"hv: all domains stopped"]))
    # terminal = "tagged": the domain in focus is sanitised too.
    cases.append(Case("console-tagged", image="iso", firmware="bios", smp=1,
                      config="tests/configs/console-tagged.toml",
                      forbid=(PANIC, r"hvtest: FAIL", "\x1b\\[1;31m"),
                      console_input=[(r"\[a\] hvtest: tick 1\b", b"quit\r")],
                      expect=[esc("[a] hvtest: ansi .[1;31mRED.[0m .[4Cafter-move"),
                              esc("[a] .[?1049h.[2J.[Hhvtest: full screen"),
                              r"\[a\] hvtest: got 'quit'", r"hv: all domains stopped"]))
    # A domain printing as fast as it can starves neither the other's
    # output nor the shell: the console lock is a ticket lock, taken per
    # line, and the shell holds every domain's output while it is open.
    def fair(log):
        first = log.index("[flood] hvtest: flood 0 ")
        last = log.find("[flood] hvtest: flood done")
        ticks = len(re.findall(r"^\[ticker\] hvtest: tick", log[first:last], re.M))
        return None if ticks >= 2 else f"{ticks} ticker lines among the flood's"
    cases.append(Case("console-flood", image="iso", firmware="bios", smp=2,
                      config="tests/configs/console-flood.toml", timeout=300,
                      forbid=(PANIC, r"hvtest: FAIL"), check=fair,
                      console_input=[(r"\[flood\] hvtest: flood 1000 ", shell_open + b"list\r"),
                                     (r"hv: flood\s+running", b"exit\r"),
                                     (r"hv: shell: closed", b"quit\r")],
                      expect=[r"hv: flood\s+running", r"\[ticker\] hvtest: got 'quit'",
                              r"\[flood\] hvtest: flood done"]))


def pci_cases(cases):
    """PCI passthrough fenced by the IOMMU, once with each unit (AMD-V under
    TCG, so the unit follows the ACPI tables, not the CPU)."""
    # Each blocked DMA is reported. QEMU 10's amd-iommu blocks them but
    # writes no event-log entry (its page walk drops a not-present PTE
    # silently), so under it the proof is the victim's memory and the
    # device reading back nothing; the event-log parsing is unit-tested.
    faults = {"vtd": [r"hv: iommu: fault: device 00:05\.0 \(evil\) write at 0x10800000 blocked",
                      r"hv: iommu: fault: device 00:05\.0 \(evil\) write at 0x1000000 blocked",
                      r"hv: iommu: fault: device 00:05\.0 \(evil\) read at 0x10800000 blocked",
                      r"hv: domain evil exits: total=\d+ .*dma-faults=[1-9]"],
              "amdvi": [r"hv: domain evil exits: total=\d+ .*dma-faults=\d+"]}
    # Blocked interrupts: the refused MSI is kept masked at the device (it
    # sends nothing: no fault storm); the forged one names entry 4000,
    # which no device has. QEMU's DMA carries no requester ID, so the unit
    # reports the forgery from ff:1f.7 (a real unit names the device).
    irq_faults = {"vtd": [r"hv: iommu: interrupt fault: device [0-9a-f:.]+ \([a-z ]+\) entry 4000 not present: blocked"],
                  "amdvi": []}
    intx_lines = {"vtd": [r"hv: domain test0: device 00:05\.0 INTx at GSI 21"],
                  "amdvi": [r"hv: domain test0: device 00:05\.0: INTx not passed through "
                            r"\(IOAPIC lines are not routed through AMD-Vi remapping\)"]}
    for unit, iommu in IOMMUS.items():
        name = "VT-d" if unit == "vtd" else "AMD-Vi"
        # hvtest drives edu in its own domain: identification, liveness,
        # a DMA round trip through the IOMMU, 10,000 BAR reads with no
        # exit, and a walk of all 256 buses that finds only its own.
        cases.append(Case(f"pci-edu-{unit}", image="iso", firmware="bios", smp=2,
                          config="tests/configs/pci-edu.toml",
                          qemu_args=iommu + EDU + ["-device", "e1000e,addr=07.0"],
                          forbid=(PANIC, r"hvtest: FAIL", r"hv: iommu: fault"),
                          expect=[rf"hv: iommu: {name}",
                                  r"hv: domain test0: device 00:05\.0 \(1234:11e8\) as 00:05\.0, DMA fenced by " + name,
                                  r"hv: pci 00:05\.0 1234:11e8 class 00ff -> test0",
                                  r"hv: pci 00:06\.0 1234:11e8 class 00ff -> none",
                                  r"\[test0\] hvtest: PASS pci-enum", r"\[test0\] hvtest: PASS edu-id",
                                  r"\[test0\] hvtest: PASS edu-live", r"\[test0\] hvtest: PASS edu-dma",
                                  r"\[test0\] hvtest: PASS bar-reads", r"\[test0\] hvtest: PASS edu-msi",
                                  r"\[test0\] hvtest: PASS pci-walk",
                                  r"\[test0\] hvtest: PASS io-bar"] + intx_lines[unit] + [
                                  r"hv: domain test0 stopped: poweroff",
                                  r"hv: domain test0 exits: total=\d+ .*dma-faults=0",
                                  r"hv: domain test0 refused: .* pci=[1-9]", r"hv: all domains stopped"]))
        # A hostile domain aims edu's DMA at the victim's RAM and the
        # hypervisor's image: every access is blocked and reported, the
        # victim finds its memory unchanged.
        cases.append(Case(f"dma-hostile-{unit}", image="iso", firmware="bios", smp=2,
                          config="tests/configs/dma-hostile.toml", qemu_args=iommu + EDU,
                          forbid=(PANIC, r"hvtest: FAIL", r"hv: domain victim stopped(?!: poweroff)"),
                          console_input=[(r"hv: domain evil stopped", b"check\r")],
                          expect=[r"hv: domain victim: 16 MiB at host 0x10000000",
                                  r"\[victim\] hvtest: victim pattern written"] + faults[unit] +
                                 [r"\[evil\] hvtest: PASS hostile-dma",
                                  r"\[victim\] hvtest: PASS victim-pattern",
                                  r"hv: domain victim stopped: poweroff", r"hv: all domains stopped"]))
        # edu's legacy pin, level-triggered, through the domain's IOAPIC
        # and a remapping entry (VT-d; AMD-Vi does not route IOAPIC
        # lines to domains, and says so).
        if unit == "vtd":
            cases.append(Case(f"pci-intx-{unit}", image="iso", firmware="bios", smp=2,
                              config="tests/configs/pci-intx.toml", qemu_args=iommu + EDU,
                              forbid=(PANIC, r"hvtest: FAIL", r"hv: iommu: .*fault", r"INTx not passed"),
                              expect=[r"hv: domain test0: device 00:05\.0 INTx at GSI 21",
                                      r"\[test0\] hvtest: PASS edu-intx \(GSI 21, 1000 level interrupts",
                                      r"hv: domain test0 stopped: poweroff", r"hv: all domains stopped"]))
        # A hostile domain aims edu's MSI at a CPU it does not have (APIC
        # ID 1: its own are 0..n-1, whatever the cores'), then forges
        # the message by DMA into the interrupt window: the hypervisor
        # leaves the entry blocked, the unit blocks both, the victim (its
        # interrupts on) receives nothing.
        cases.append(Case(f"msi-hostile-{unit}", image="iso", firmware="bios", smp=2,
                          config=f"tests/configs/msi-hostile-{unit}.toml", qemu_args=iommu + EDU,
                          forbid=(PANIC, r"hvtest: FAIL", r"hv: domain victim stopped(?!: poweroff)"),
                          console_input=[(r"hv: domain evil stopped", b"check\r")],
                          expect=[r"hv: domain evil: device 00:05\.0 MSI vector 0: message 0xfee01000/0x43 "
                                  r"aims at a CPU that is not the domain's: blocked"] + irq_faults[unit] +
                                 [r"\[evil\] hvtest: PASS msi-hostile",
                                  r"\[victim\] hvtest: PASS victim-pattern",
                                  r"\[victim\] hvtest: PASS irq-watch",
                                  r"hv: domain victim stopped: poweroff", r"hv: all domains stopped"]))
        # Devices a domain cannot have: each refusal stops only its domain.
        cases.append(Case(f"pci-refusals-{unit}", image="iso", firmware="bios", smp=4,
                          config="tests/configs/pci-refusals.toml", qemu_args=iommu + EDU,
                          hvconfig_flags=["--allow-shared-devices"], forbid=(PANIC, r"hvtest: FAIL"),
                          expect=[r"hv: domain twice: device 00:05\.0 already belongs to domain owner",
                                  r"hv: domain twice: not started",
                                  r"hv: domain bridge: device 00:00\.0 is a host bridge",
                                  r"hv: domain ghost: device 00:0a\.0 does not exist on this machine",
                                  r"hv: domain owner stopped: poweroff", r"hv: all domains stopped"]))
    # No IOMMU at all: a domain with a device is refused, the other runs.
    cases.append(Case("pci-no-iommu", image="iso", firmware="bios", smp=2,
                      config="tests/configs/pci-no-iommu.toml", qemu_args=EDU,
                      forbid=(PANIC, r"hvtest: FAIL", r"\[needy\]"),
                      expect=[r"hv: iommu: none found \(no DMAR/IVRS\)",
                              r"hv: domain needy: device 00:05\.0 needs an IOMMU, none found \(no DMAR/IVRS\)",
                              r"hv: domain needy: not started", r"hv: pci 00:05\.0 1234:11e8 class 00ff -> none",
                              r"hv: domain plain stopped: poweroff", r"hv: all domains stopped"]))
    cases.append(Case("bochs-pci-no-iommu", image="iso", firmware="bios", emulator="bochs", smp=2,
                      mem=256, config="tests/configs/bochs-no-iommu.toml", timeout=600,
                      forbid=(PANIC, r"hvtest: FAIL", r"\[needy\]"),
                      expect=[r"hv: pci: \d+ functions \(configuration mechanism #1, no MCFG\)",
                              r"hv: domain needy: device 00:01\.1 needs an IOMMU, none found \(no DMAR/IVRS\)",
                              r"hv: domain plain stopped: poweroff", r"hv: all domains stopped"]))
    # A stock Linux lists its device in sysfs and reads edu's ID register
    # through BAR0 (busybox devmem; sysfs `enable` turns memory decoding
    # on, as no driver binds), with the device behind the IOMMU; after a
    # reboot of its domain (devices quiesced, memory scrubbed) the device
    # works again. On both units.
    dev = "/sys/bus/pci/devices/0000:00:05.0"
    probe = (f"echo ids $(cat {dev}/vendor {dev}/device); echo 1 > {dev}/enable; "
             f"devmem $(cut -c1-18 {dev}/resource | head -1) 32; ")
    for unit, iommu in IOMMUS.items():
        linux_pci_case(cases, unit, iommu, dev, probe)
        linux_net_case(cases, unit, iommu)
        # The guest's own reboot on VT-d, the operator's `restart` on
        # AMD-Vi: the disk must work after either.
        linux_nvme_case(cases, unit, iommu, operator=unit == "amdvi")
    # On a CPU without x2APIC (the LAPICs in xAPIC mode): Linux aims the
    # disk's MSI-X vectors at flat logical destinations, which the
    # hypervisor resolves to one of the domain's CPUs for the IOMMU.
    linux_nvme_case(cases, "amdvi", IOMMUS["amdvi"], xapic=True)


LINUX_DEV = ["linux/bzImage-generic", "linux/initrd-dev.gz"]
MSI_REFUSED = r"hv: domain .*: message 0x[0-9a-f]+/0x[0-9a-f]+ .*: blocked"
BOTH_PROMPTS = (r"\[a\] hvlinux: shell on the console(.|\n)*\[b\] hvlinux: shell on the console|"
                r"\[b\] hvlinux: shell on the console(.|\n)*\[a\] hvlinux: shell on the console")


def linux_net_case(cases, unit, iommu):
    """Two Linux domains, an e1000e each, on one QEMU hub: b pings a 100
    times, moves its receive interrupt to its other CPU, pings 50 more.
    Each driver's MSI-X goes through interrupt remapping."""
    nics = ["-netdev", "hubport,id=n0,hubid=0", "-device", "e1000e,netdev=n0,addr=07.0",
            "-netdev", "hubport,id=n1,hubid=0", "-device", "e1000e,netdev=n1,addr=08.0"]
    up = "ip addr add 10.0.0.{n}/24 dev eth0 && ip link set eth0 up && echo NET-{n}-UP\r"
    irqs = "grep -E 'eth0|CPU' /proc/interrupts\r"
    # Linux moves an interrupt as irqbalance would: b's receive vector to
    # its second CPU (the MSI-X entry is rewritten while in use).
    move = ("irq=$(grep eth0-rx-0 /proc/interrupts | cut -d: -f1 | tr -d ' '); "
            "echo 2 > /proc/irq/$irq/smp_affinity")
    cases.append(Case(f"linux-net-{unit}", image="iso", firmware="bios", smp=4, mem=1024,
                      config="tests/configs/linux-net.toml", qemu_args=iommu + ["-nic", "none"] + nics,
                      guests=LINUX_DEV, timeout=900,
                      forbid=(PANIC, LINUX_COMPLAINTS.replace(r"\[linux\]", r"\[[ab]\]"),
                              r"hv: iommu: .*fault", r"hvlinux: module .* FAILED", MSI_REFUSED),
                      console_input=[
                          (BOTH_PROMPTS + r"(.|\n)*hvlinux# ", up.format(n=1).encode()),
                          (r"\[a\] NET-1-UP", b"\x1dn"),
                          (r"hv: console: input goes to b", (up.format(n=2) + "sleep 4; " +
                           "ping -c 100 -i 0.05 -w 60 10.0.0.1; " + irqs.rstrip("\r") + "; " +
                           move + "; ping -c 50 -i 0.05 -w 60 10.0.0.1; " + irqs.rstrip("\r") +
                           "; poweroff -f\r").encode()),
                          (r"hv: domain b stopped: poweroff", b"\x1dn"),
                          (r"hv: domain b stopped: poweroff(.|\n)*hv: console: input goes to a",
                           (irqs.rstrip("\r") + "; poweroff -f\r").encode())],
                      expect=[r"\[a\] hvlinux: modules: e1000e ", r"\[b\] hvlinux: modules: e1000e ",
                              r"\[a\] .*e1000e 0000:00:07\.0 eth0: Intel\(R\) PRO/1000",
                              r"\[b\] .*e1000e 0000:00:08\.0 eth0: Intel\(R\) PRO/1000",
                              r"\[b\] 100 packets transmitted, 100 packets received, 0% packet loss",
                              r"\[b\] round-trip min/avg/max = ",
                              r"\[b\] .*eth0-rx-0", r"\[a\] .*eth0-rx-0",
                              r"\[b\] 50 packets transmitted, 50 packets received, 0% packet loss",
                              r"\[b\] +\d+: +\d+ +[1-9]\d* +PCI-MSI \d+-edge +eth0-rx-0",
                              r"hv: domain b stopped: poweroff", r"hv: domain a stopped: poweroff",
                              r"hv: all domains stopped"]))


def nvme_check(case):
    """The file read back after the reboot is the one written before it,
    and the host's e2fsck finds the file system clean."""
    def check(log):
        sums = re.findall(r"\[linux\] ([0-9a-f]{32})  /m/f", log)
        if len(sums) != 2 or sums[0] != sums[1]:
            return f"md5sums before and after the reboot: {sums}"
        img = os.path.join(case.workdir, "nvme.img")
        fsck = shutil.which("e2fsck") or "/sbin/e2fsck"
        r = subprocess.run([fsck, "-n", "-f", img], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            return f"e2fsck -n {img}: exit {r.returncode}: {r.stdout.strip()[-300:]}"
        return None
    return check


def linux_nvme_case(cases, unit, iommu, xapic=False, operator=False):
    """An NVMe disk in a 2-CPU Linux domain: ext4 made and written, the
    domain rebooted (device quiesced, interrupts torn down) -- by the guest,
    or with operator=True by the shell's `restart` -- the file read back;
    then the host checks the file system."""
    disk = ["-drive", "file={workdir}/nvme.img,if=none,id=nv0,format=raw",
            "-device", "nvme,drive=nv0,serial=hv1,addr=08.0"]
    write = ("mkdir -p /m && mke2fs -q -F /dev/nvme0n1 && mount -t ext4 /dev/nvme0n1 /m && "
             "dd if=/dev/urandom of=/m/f bs=1M count=16 2>/dev/null && sync && md5sum /m/f && "
             "grep -E 'nvme|CPU' /proc/interrupts; umount /m && " +
             ("echo ready-to-restart\r" if operator else "reboot -f\r"))
    read = ("mkdir -p /m && mount -t ext4 -o ro /dev/nvme0n1 /m && md5sum /m/f && "
            "grep -E 'nvme|CPU' /proc/interrupts; umount /m; poweroff -f\r")
    # One TCG thread: QEMU 10.0's multi-threaded TCG once died here under
    # load (iotlb_to_section assertion) as the stopped domain's disk was
    # reset and its BARs put back.
    c = Case(f"linux-nvme-{unit}" + ("-xapic" if xapic else ""), image="iso", firmware="bios",
             smp=3, mem=1024, tcg_single=True, cpu="max,-x2apic" if xapic else "max",
             config="tests/configs/linux-nvme.toml", qemu_args=iommu + ["-nic", "none"] + disk,
             disks=[("nvme.img", 64)], guests=LINUX_DEV, timeout=900,
             forbid=(PANIC, LINUX_COMPLAINTS, r"hv: iommu: .*fault", r"hvlinux: module .* FAILED",
                     MSI_REFUSED),
             console_input=[(LINUX_PROMPT, write.encode())] +
                           ([(r"\[linux\] ready-to-restart", b"\x1d:restart linux\r"),
                             (r"hv: domain linux restarting", b"exit\r")] if operator else []) +
                           [(r"hv: domain linux restarted(.|\n)*" + LINUX_PROMPT, read.encode())],
             expect=[r"\[linux\] hvlinux: modules: .*nvme ", r"\[linux\] .*nvme nvme0: pci function 0000:00:08\.0",
                     r"\[linux\] [0-9a-f]{32}  /m/f", r"\[linux\] .*nvme0q1",
                     r"hv: domain linux stopped: " + ("restarted by the operator" if operator else "reboot"),
                     r"hv: domain linux restarted(.|\n)*\[linux\] [0-9a-f]{32}  /m/f",
                     r"hv: domain linux stopped: poweroff", r"hv: all domains stopped"])
    c.check = nvme_check(c)
    cases.append(c)


def linux_pci_case(cases, unit, iommu, dev, probe):
    cases.append(Case(f"linux-pci-{unit}", image="iso", firmware="bios", smp=2, mem=512,
                      config="tests/configs/linux-pci.toml", qemu_args=iommu + EDU,
                      guests=["linux/bzImage", "linux/initrd.gz"], timeout=600,
                      forbid=(PANIC, LINUX_COMPLAINTS, r"hv: iommu: fault"),
                      console_input=[(LINUX_PROMPT, (probe + "reboot -f\r").encode()),
                                     (r"hv: domain linux restarted(.|\n)*" + LINUX_PROMPT,
                                      (probe + "poweroff -f\r").encode())],
                      expect=[r"\[linux\] ids 0x1234 0x11e8", r"\[linux\] 0x010000ED",
                              r"hv: domain linux restarted(.|\n)*\[linux\] ids 0x1234 0x11e8"
                              r"(.|\n)*\[linux\] 0x010000ED",
                              r"hv: domain linux stopped: poweroff", r"hv: all domains stopped"]))


def acpi_checksum_fix(table):
    table = bytearray(table)
    table[9] = (-sum(table)) & 0xFF
    return bytes(table)


def spcr_table(port):
    """A Serial Port Console Redirection table (Microsoft SPCR spec, rev 2)
    for a 16550 at an I/O port, 115200 baud."""
    body = bytearray(80 - 36)
    body[0] = 0                                      # interface type: 16550
    struct.pack_into("<BBBBQ", body, 4, 1, 8, 0, 1, port)   # GAS: I/O, 8 bit
    body[58 - 36] = 7                                # baud 115200
    header = struct.pack("<4sIBB6s8sI4sI", b"SPCR", 80, 2, 0, b"HVTEST",
                         b"HVTEST  ", 1, b"HVT ", 1)
    return acpi_checksum_fix(header + bytes(body))


def prepare_image(case, build, workdir):
    """The default images as built, or one made for the case's
    configuration and command line with scripts/mkimage; for a guest
    without the hypervisor, its ISO (scripts/mkiso) or the QEMU arguments
    that boot it with -kernel."""
    if case.grub:
        g = case.grub
        elf = os.path.join(build, "guests", g["elf"])
        if not os.path.exists(elf):
            subprocess.run(["make", "-s", f"BUILD={build}", elf], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
        if g.get("kernel"):
            return {"kernel": (elf, g["cmdline"])}
        out = os.path.join(workdir, "hv.iso")
        subprocess.run([os.path.join(ROOT, "scripts", "mkiso"), "--elf", elf, "--out", out,
                        "--cmdline", g["cmdline"]] + (["--multiboot1"] if g.get("mb1") else []) +
                       [a for path, args in g.get("modules", ())
                        for a in ("--module", f"{os.path.join(ROOT, path)}:{args}")],
                       check=True, stdout=subprocess.DEVNULL)
        return {"iso": out}
    if not case.cmdline and not case.config:
        return {case.image: os.path.join(build, "esp" if case.image == "esp" else "hv.iso")}
    out = os.path.join(workdir, "esp" if case.image == "esp" else "hv.iso")
    config = os.path.join(ROOT, case.config or "guest-images/default.toml")
    base = os.path.join(ROOT, case.base) if case.base else os.path.join(build, "guests")
    missing = [os.path.join(build, "guests", g) for g in case.guests
               if not os.path.exists(os.path.join(build, "guests", g))]
    if missing:
        subprocess.run(["make", "-s", f"BUILD={build}", *missing], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    if case.files:
        # One folder with the guest images and the case's own files.
        merged = os.path.join(workdir, "base")
        os.makedirs(merged)
        for src in [os.path.join(base, n) for n in sorted(os.listdir(base))] + \
                [os.path.join(ROOT, f) for f in case.files]:
            link = os.path.join(merged, os.path.basename(src))
            if os.path.lexists(link):
                os.unlink(link)    # the case's own file wins
            os.symlink(src, link)
        base = merged
    subprocess.run([os.path.join(ROOT, "scripts", "mkimage"), case.image, "--config", config,
                    "--base", base, "--elf", os.path.join(build, "hv.elf"),
                    "--efi", os.path.join(build, "BOOTX64.EFI"), "--out", out,
                    "--cmdline", case.cmdline] +
                   [f"--hvconfig-flag={f}" for f in case.hvconfig_flags],
                   check=True, stdout=subprocess.DEVNULL)
    return {case.image: out}


def run_integration(case, build):
    workdir = os.path.join(build, "test-work", case.name)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    logdir = os.path.join(build, "test-logs")
    os.makedirs(logdir, exist_ok=True)
    log = os.path.join(logdir, case.name + ".log")
    if os.path.exists(log):
        os.unlink(log)
    img = prepare_image(case, build, workdir)
    case.workdir = workdir
    for fname, mib in case.disks:
        with open(os.path.join(workdir, fname), "wb") as f:
            f.truncate(mib << 20)
    extra = []
    for fname, data in case.acpi_tables:
        path = os.path.join(workdir, fname)
        with open(path, "wb") as f:
            f.write(data)
        extra += ["-acpitable", f"file={path}"]
    com1 = log
    sock_path = None
    if case.console_input:
        sock_path = os.path.join(workdir, "console.sock")
        com1 = f"socket-wait:{sock_path}"	# the typist keeps the log
    if case.watch_com2:
        com1 = os.path.join(workdir, "com1.log")
        extra += ["-serial", f"file:{log}"]
    if case.emulator == "bochs":
        cmd = hvbochs.build_bochs(img["iso"], cpus=case.smp, mem=case.mem, serial_log=log,
                                  workdir=workdir)
    else:
        cmd = hvqemu.build_cmd(firmware=case.firmware, machine=case.machine, smp=case.smp,
                               mem=case.mem, cpu=case.cpu, serial=com1, workdir=workdir,
                               kvm=KVM, extra=extra, **img)
    cmd += [a.replace("{workdir}", workdir) for a in case.qemu_args] if case.emulator == "qemu" else []
    if case.tcg_single and "tcg" in cmd:
        cmd[cmd.index("tcg")] = "tcg,thread=single"
    with open(os.path.join(workdir, "qemu.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    qemu_err = open(os.path.join(workdir, "qemu.stderr"), "w")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qemu_err, stderr=qemu_err)
    deadline = time.monotonic() + case.timeout
    verdict = None
    text = ""
    typist = ConsoleTypist(sock_path, case.console_input, log) if sock_path else None
    try:
        while verdict is None:
            time.sleep(0.25)
            exited = proc.poll() is not None	# before reading: its last words count
            if exited and typist:
                typist.settle()
            text = open(log, errors="replace").read() if os.path.exists(log) else ""
            if typist:
                typist.step(text)
            for pat in case.forbid:
                if re.search(pat, text, re.M):
                    verdict = f"forbidden line /{pat}/ appeared"
            missing = [p for p in case.expect if not re.search(p, text, re.M)]
            if verdict is None and not missing:
                verdict = (case.check(text) if case.check else None) or ""
            elif verdict is None and exited:
                qemu_err.flush()
                why = open(qemu_err.name, errors="replace").read().strip().splitlines()
                verdict = (f"{case.emulator} exited ({proc.returncode}) before /{missing[0]}/" +
                           (f": {why[0]}" if why and case.emulator == "qemu" else ""))
            elif verdict is None and time.monotonic() > deadline:
                verdict = f"timeout after {case.timeout}s waiting for /{missing[0]}/"
    finally:
        proc.kill()
        proc.wait()
        qemu_err.close()
        if typist:
            typist.close()
    return verdict or None, log


class ConsoleTypist:
    """Types on QEMU's console socket: each (regex, bytes) once the log
    shows regex, in order. What QEMU sends is written to the log as it
    comes, so QEMU never blocks on a full socket."""

    def __init__(self, path, script, log):
        self.path, self.script, self.sock, self.log = path, list(script), None, log

    def _connect(self):
        if self.sock is None and os.path.exists(self.path):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.path)
            except OSError:
                s.close()
                return
            self.sock = s
            self.keeper = threading.Thread(target=self._keep, args=(s,), daemon=True)
            self.keeper.start()

    def settle(self):
        """QEMU has exited: the rest of what it sent, into the log."""
        if getattr(self, "keeper", None):
            self.keeper.join(2)

    def _keep(self, sock):
        with open(self.log, "ab") as f:
            try:
                while True:
                    data = sock.recv(65536)
                    if not data:
                        break
                    f.write(data)
                    f.flush()
            except OSError:
                pass

    @staticmethod
    def _ready(when, text):
        return when(text) if callable(when) else re.search(when, text, re.M)

    def step(self, text):
        self._connect()
        while self.sock and self.script and self._ready(self.script[0][0], text):
            self.sock.sendall(self.script.pop(0)[1])
            time.sleep(0.1)

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


def run_cmd(name, argv, build):
    logdir = os.path.join(build, "test-logs")
    os.makedirs(logdir, exist_ok=True)
    log = os.path.join(logdir, name + ".log")
    with open(log, "w") as f:
        rc = subprocess.run(argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT).returncode
    return (None if rc == 0 else f"exit status {rc}"), log


# libFuzzer harnesses (tests/fuzz/, built by `make test`): a short run of
# each, from a fresh corpus seeded with real inputs, with a fixed seed, so
# `make test` stays fast and nearly deterministic. Run longer by hand:
#   build/fuzz/fuzz_config -max_total_time=600 [CORPUS_DIR]
# Crash inputs are kept as BUILD/fuzz/NAME-crash-*; rerun one with
# `build/fuzz/NAME FILE`.
FUZZ_SECONDS = 20
FUZZ_SEEDS = {
    # each harness: files under BUILD whose bytes are a valid input once a
    # control byte (tests/fuzz/NAME.c) is put in front
    "fuzz_config": ["default.cfg"],
    "fuzz_loader": [os.path.join("guests", "hvtest.elf")],
    "fuzz_insn": [],               # bytes are instructions: starts from nothing
    "fuzz_legacy": [],             # records of port accesses: from nothing
    # absolute paths (os.path.join keeps them): QEMU's own tables
    "fuzz_acpi_iommu": [os.path.join(ROOT, "tests", "fixtures", "acpi", m, f)
                        for m, f in (("q35-intel-iommu", "07fe23ac-DMAR.bin"),
                                     ("q35-amd-iommu", "07fe23bd-IVRS.bin"))],
}


def run_fuzz(name, build):
    exe = os.path.join(build, "fuzz", name)
    if not os.path.exists(exe):
        return f"{exe} is not built (make {exe})", None
    workdir = os.path.dirname(exe)
    corpus = tempfile.mkdtemp(prefix=f"{name}-corpus-", dir=workdir)
    try:
        for rel in FUZZ_SEEDS.get(name, []):
            try:
                with open(os.path.join(build, rel), "rb") as f:
                    data = f.read()
            except OSError:
                continue           # no seed: the fuzzer starts from nothing
            for control in (0, 1):
                with open(os.path.join(corpus, f"seed-{control}-{os.path.basename(rel)}"),
                          "wb") as f:
                    f.write(bytes([control]) + data)
        return run_cmd(name.replace("_", "-"), [
            exe, f"-max_total_time={FUZZ_SECONDS}", "-seed=1", "-print_final_stats=1",
            f"-artifact_prefix={os.path.join(workdir, name)}-", corpus], build)
    finally:
        shutil.rmtree(corpus, ignore_errors=True)


def all_tests(build):
    tests = []
    unit_dir = os.path.join(build, "unit")
    for exe in sorted(os.listdir(unit_dir)) if os.path.isdir(unit_dir) else []:
        if exe.startswith("test_") and exe != "test_config":
            tests.append(("unit-" + exe[5:], lambda b, e=exe: run_cmd(
                "unit-" + e[5:], [os.path.join(unit_dir, e)], b)))
    # The config compiler's own tests, then the hypervisor's blob parser on
    # a blob the compiler wrote: both sides of the format agree.
    sample = os.path.join(unit_dir, "hvconfig-sample.bin")
    tests.append(("unit-config", lambda b: run_cmd("unit-config", ["sh", "-c",
        f"HVCFG_SAMPLE_OUT={sample} python3 tests/hvconfig_test.py && "
        f"HVCFG_SAMPLE_BLOB={sample} {os.path.join(unit_dir, 'test_config')}"], b)))
    for harness in FUZZ_SEEDS:
        tests.append((harness.replace("_", "-"), lambda b, h=harness: run_fuzz(h, b)))
    tests.append(("build-clang", lambda b: run_cmd("build-clang", [
        "make", "-s", "CC=clang", f"BUILD={os.path.join(b, 'clang')}",
        f"{os.path.join(b, 'clang')}/hv.elf", f"{os.path.join(b, 'clang')}/BOOTX64.EFI"], b)))
    # The exit-path and boot figures against tests/budgets.toml: instruction
    # counts (QEMU -icount shift=0, Bochs sync=none), the same on every run.
    if not KVM:
        tests.append(("bench-budgets", lambda b: run_cmd("bench-budgets", [
            "python3", "scripts/bench", "--check", "--build", b], b)))
    for case in integration_cases():
        if KVM and case.emulator == "qemu":
            if case.cpu != "max":
                continue
            case.expect = [p.replace("cpu=amd", "cpu=(?:amd|intel)") for p in case.expect]
        tests.append((case.name, lambda b, c=case: run_integration(c, b)))
    return tests


# hvtest's whole result -- every line it printed and the domain's exit
# counters -- must be the same on VT-x (Bochs) and AMD-V (QEMU).
PARITY = ("hvtest-iso-bios", "bochs-hvtest")


def parity_lines(path):
    text = open(path, errors="replace").read().replace("\r", "")
    return [l for l in text.splitlines()
            if l.startswith("[test0] ") or re.match(r"hv: domain test0 (exits|stopped|refused)", l)]


def check_parity(build):
    amd, intel = (os.path.join(build, "test-logs", n + ".log") for n in PARITY)
    a, i = parity_lines(amd), parity_lines(intel)
    if not a or a != i:
        diff = [f"    amd:   {x}\n    intel: {y}" for x, y in zip(a, i) if x != y]
        return (f"{PARITY[0]} and {PARITY[1]} differ ({len(a)} vs {len(i)} lines)\n" +
                "\n".join(diff[:5])), None
    return None, None


def tail(path, n=25):
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        return ""
    return "\n".join("    | " + l for l in lines[-n:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--only", action="append", help="run tests whose name contains this")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--kvm", action="store_true",
                    help="QEMU cases with -accel kvm -cpu host (needs nested virtualization)")
    a = ap.parse_args()
    global KVM
    KVM = a.kvm
    build = os.path.abspath(a.build)
    tests = [t for t in all_tests(build) if not a.only or any(o in t[0] for o in a.only)]
    if a.list:
        for name, _ in tests:
            print(name)
        return 0
    passed = failed = 0
    passed_names = set()
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futures = {pool.submit(fn, build): name for name, fn in tests}
        for fut in concurrent.futures.as_completed(futures):
            name = futures[fut]
            try:
                err, log = fut.result()
            except Exception as e:  # a broken test is a failed test
                err, log = f"{type(e).__name__}: {e}", ""
            if err is None:
                passed += 1
                passed_names.add(name)
                print(f"PASS {name}", flush=True)
            else:
                failed += 1
                print(f"FAIL {name}: {err}" + (f" (log: {log})" if log else ""), flush=True)
                if log:
                    print(tail(log), flush=True)
    if all(any(n == t[0] for t in tests) for n in PARITY):
        if all(n in passed_names for n in PARITY):
            err, _ = check_parity(build)
        else:
            err = "needs both runs to pass"
        if err is None:
            passed += 1
            print("PASS vendor-parity", flush=True)
        else:
            failed += 1
            print(f"FAIL vendor-parity: {err}", flush=True)
    print(f"({time.monotonic() - start:.0f}s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
