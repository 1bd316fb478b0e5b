# The hypervisor image and everything around it. `make` builds the images
# with the default configuration; `make run` boots it under QEMU + OVMF;
# `make test` runs every test. See README.md.

BUILD   ?= build
CC      ?= gcc
LD      := ld
OBJCOPY := objcopy
PYTHON  ?= python3

# `make V=1` shows the commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

ifeq ($(origin CC),default)
CC := gcc
endif

COMPILER_INCLUDE := $(shell $(CC) -print-file-name=include 2>/dev/null)
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
COMPILER_INCLUDE := $(shell $(CC) -print-resource-dir)/include
endif

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow
HV_CFLAGS := -std=c11 -ffreestanding -nostdinc -isystem $(COMPILER_INCLUDE) -I. \
	-O2 -g -fno-pic -fno-pie -mcmodel=small -mno-red-zone \
	-mno-mmx -mno-sse -mno-sse2 -mno-avx -msoft-float \
	-fno-stack-protector -fno-omit-frame-pointer -fno-strict-aliasing \
	-fno-asynchronous-unwind-tables -fno-common $(WARN) $(EXTRA_CFLAGS)
HV_ASFLAGS := -I. -D__ASSEMBLER__ -fno-pic -fno-pie -g
HV_LDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments -T linker.ld

HV_SRCS := boot/entry.S \
	$(wildcard arch/x86_64/*.c) $(wildcard arch/x86_64/*.S) \
	$(wildcard arch/x86_64/svm/*.c) $(wildcard arch/x86_64/svm/*.S) \
	$(wildcard arch/x86_64/vmx/*.c) $(wildcard arch/x86_64/vmx/*.S) \
	$(wildcard kernel/*.c) $(wildcard kernel/*.S) \
	$(wildcard vmm/*.c) $(wildcard vmm/dev/*.c) $(wildcard vmm/load/*.c) $(wildcard vmm/console/*.c) $(wildcard drivers/*.c) $(wildcard drivers/iommu/*.c)
HV_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(HV_SRCS))

.PHONY: all iso esp run test unit bench clean
.SECONDEXPANSION:
all: $(BUILD)/hv.elf $(BUILD)/BOOTX64.EFI $(BUILD)/esp $(BUILD)/hv.iso

# ---- tools ---------------------------------------------------------------
# tool:debian-package pairs; a missing one stops the build with the fix.
need = $(if $(shell command -v $(1) 2>/dev/null),,$(error $(1) not found: run 'apt-get install $(2)' (or .ci/run as root, which installs everything)))

# ---- guests (built first: the default configuration names them) ------------
include guest-images/hvtest/hvtest.mk
include guest-images/mb1test/mb1test.mk
# The Linux guest (Debian kernel + busybox initramfs): `make linux-guest`.
include guest-images/linux/linux.mk

# ---- the hypervisor --------------------------------------------------------
$(BUILD)/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(HV_ASFLAGS) -MMD -MP -c $< -o $@

# What the shell's `version` says: git describe and the build date. The
# header is rewritten only when that changes, so only shell_cmds.c rebuilds.
VERSION_H := $(BUILD)/gen/build_version.h
HV_DESCRIBE := $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
$(VERSION_H): FORCE
	@mkdir -p $(dir $@)
	@printf '#define HV_BUILD_DESCRIBE "%s"\n#define HV_BUILD_DATE "%s"\n' '$(HV_DESCRIBE)' \
		"$$(date -u +%Y-%m-%d)" > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/obj/vmm/console/shell_cmds.c.o: $(VERSION_H)
$(BUILD)/obj/vmm/console/shell_cmds.c.o: HV_CFLAGS += -I$(BUILD)/gen
.PHONY: FORCE
FORCE:

# The default configuration, compiled and linked into the image.
DEFAULT_CONFIG := guest-images/default.toml
DEFAULT_BLOB := $(BUILD)/default.cfg
$(DEFAULT_BLOB): $(DEFAULT_CONFIG) scripts/hvconfig $(HVTEST_ELF) $(LINUX_BZIMAGE) $(LINUX_INITRD)
	@$(if $(Q),echo "  HVCFG   $@")
	$(Q)scripts/hvconfig compile $(DEFAULT_CONFIG) --base $(BUILD)/guests -o $@
$(BUILD)/obj/kernel/default_config.S.o: $(DEFAULT_BLOB)
$(BUILD)/obj/kernel/default_config.S.o: HV_ASFLAGS += -DDEFAULT_CONFIG_BLOB='"$(DEFAULT_BLOB)"'

$(BUILD)/hv.elf: $(HV_OBJS) linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS)
	@$(PYTHON) scripts/check-image $@

-include $(HV_OBJS:.o=.d)

# ---- the UEFI loader -------------------------------------------------------
include boot/efi/efi.mk

# ---- images ----------------------------------------------------------------
# `make iso CONFIG=path/system.toml OUT=path/hv.iso`: any configuration,
# guest paths relative to the TOML. Without CONFIG: the default one.
HV_CMDLINE ?=
IMAGE_DEPS := $(BUILD)/hv.elf $(HVTEST_ELF) $(LINUX_BZIMAGE) $(LINUX_INITRD) $(DEFAULT_CONFIG) scripts/mkimage scripts/mkiso scripts/hvconfig
DEFAULT_IMAGE_ARGS := --config $(DEFAULT_CONFIG) --base $(BUILD)/guests --cmdline '$(HV_CMDLINE)'

$(BUILD)/esp: $(IMAGE_DEPS) $(BUILD)/BOOTX64.EFI
	@$(if $(Q),echo "  ESP     $@")
	$(Q)scripts/mkimage esp $(DEFAULT_IMAGE_ARGS) --elf $(BUILD)/hv.elf --efi $(BUILD)/BOOTX64.EFI --out $@
	@touch $@

$(BUILD)/hv.iso: $(IMAGE_DEPS)
	$(call need,grub-mkrescue,grub-common grub-pc-bin grub-efi-amd64-bin)
	$(call need,xorriso,xorriso)
	$(call need,mformat,mtools)
	@$(if $(Q),echo "  ISO     $@")
	$(Q)scripts/mkimage iso $(DEFAULT_IMAGE_ARGS) --elf $(BUILD)/hv.elf --out $@

ifdef CONFIG
OUT ?= $(BUILD)/custom.iso
iso: $(BUILD)/hv.elf scripts/mkimage
	scripts/mkimage iso --config $(CONFIG) --elf $(BUILD)/hv.elf --out $(OUT) --cmdline '$(HV_CMDLINE)'
	@echo "built $(OUT) for $(CONFIG)"
else
iso: $(BUILD)/hv.iso
endif
esp: $(BUILD)/esp

# ---- run and test ----------------------------------------------------------
run: $(BUILD)/esp
	$(call need,qemu-system-x86_64,qemu-system-x86 (from bookworm-backports; see README))
	scripts/run-qemu --esp $(BUILD)/esp $(RUN_ARGS)

UNIT_TESTS := acpi acpi_iommu memmap palloc mb2 pgtable format cmdline config config_check loader acpi_guest insn gwalk vioapic legacy vuart vlapic kvmclock vtd amdvi pci_enum vpci iommu vmsi conout
ACPI_SRCS := $(wildcard kernel/acpi*.c) kernel/format.c
UNIT_SRCS_acpi    := $(ACPI_SRCS)
UNIT_SRCS_acpi_iommu := $(ACPI_SRCS)
UNIT_SRCS_memmap  := kernel/memmap.c
UNIT_SRCS_palloc  := kernel/palloc.c kernel/memmap.c
UNIT_SRCS_mb2     := kernel/mb2.c
UNIT_SRCS_pgtable := kernel/pgtable.c arch/x86_64/pt_host.c
UNIT_SRCS_format  := kernel/format.c
UNIT_SRCS_cmdline := kernel/cmdline.c
UNIT_SRCS_config  := kernel/config.c drivers/pci_enum.c kernel/format.c
UNIT_SRCS_config_check := kernel/config_check.c kernel/config.c kernel/memmap.c drivers/pci_enum.c kernel/format.c
UNIT_SRCS_loader  := $(wildcard vmm/load/*.c)
UNIT_SRCS_acpi_guest := vmm/acpi_guest.c $(ACPI_SRCS)
UNIT_SRCS_insn    := vmm/insn.c
UNIT_SRCS_gwalk   := vmm/gwalk.c
UNIT_SRCS_vioapic := vmm/dev/vioapic.c
UNIT_SRCS_legacy  := vmm/dev/legacy.c
UNIT_SRCS_vuart   := vmm/dev/vuart.c
UNIT_SRCS_vlapic  := vmm/dev/vlapic.c
UNIT_SRCS_kvmclock := vmm/dev/kvmclock.c
UNIT_SRCS_vtd     := drivers/iommu/vtd.c drivers/iommu/vtd_tables.c kernel/pgtable.c kernel/format.c
UNIT_SRCS_amdvi   := drivers/iommu/amdvi_tables.c kernel/pgtable.c
UNIT_SRCS_pci_enum := drivers/pci_enum.c kernel/format.c
UNIT_SRCS_iommu   := drivers/iommu/iommu.c kernel/format.c
UNIT_SRCS_conout  := vmm/console/output.c kernel/format.c
UNIT_SRCS_vmsi    := vmm/dev/vmsi.c drivers/pci_enum.c kernel/format.c
UNIT_SRCS_vpci    := vmm/dev/vpci.c vmm/dev/legacy.c vmm/dev/vmsi.c drivers/pci_enum.c kernel/format.c
HOST_CC ?= cc
UNIT_CFLAGS := -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -Wall -Wextra -Werror -I.

$(BUILD)/unit/test_%: tests/unit/test_%.c tests/unit/host_stubs.c tests/unit/host_stubs.h $$(UNIT_SRCS_$$*)
	@test -f /usr/include/cmocka.h || { echo "cmocka not found: run 'apt-get install libcmocka-dev'"; exit 1; }
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOST_CC) $(UNIT_CFLAGS) $(UNIT_SRCS_$*) $< tests/unit/host_stubs.c -lcmocka -o $@

unit: $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))

# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c), clang only. `make test`
# runs each for a few seconds; run one longer by hand, e.g.
#   build/fuzz/fuzz_config -max_total_time=600 CORPUS_DIR
FUZZ_CC ?= clang
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -I.
FUZZ_SRCS_config := kernel/config.c kernel/config_check.c kernel/memmap.c drivers/pci_enum.c kernel/format.c
FUZZ_SRCS_loader := $(wildcard vmm/load/*.c)
FUZZ_SRCS_insn := vmm/insn.c
FUZZ_SRCS_legacy := vmm/dev/legacy.c
FUZZ_SRCS_acpi_iommu := $(ACPI_SRCS)
FUZZ_PROBE := int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)n * 0; }

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/unit/host_stubs.c tests/unit/host_stubs.h $$(FUZZ_SRCS_$$*)
	$(call need,$(FUZZ_CC),clang)
	@echo '$(FUZZ_PROBE)' | $(FUZZ_CC) -fsanitize=fuzzer -x c - -o /dev/null 2>/dev/null || { \
		echo "$(FUZZ_CC) cannot link libFuzzer (-fsanitize=fuzzer): run 'apt-get install clang' (Debian 12: clang-14 has it; elsewhere also libclang-rt-dev or libclang-rt-NN-dev)"; exit 1; }
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SRCS_$*) $< tests/unit/host_stubs.c -o $@

test: all unit $(LINUX_BZIMAGE_GENERIC) $(LINUX_INITRD_DEV) $(BUILD)/fuzz/fuzz_config $(BUILD)/fuzz/fuzz_loader $(BUILD)/fuzz/fuzz_insn $(BUILD)/fuzz/fuzz_legacy $(BUILD)/fuzz/fuzz_acpi_iommu $(MB1TEST_ELF)
	$(call need,qemu-system-x86_64,qemu-system-x86 (from bookworm-backports; see README))
	$(PYTHON) tests/run.py --build $(BUILD) $(TEST_ARGS)

# Exit-path and boot figures beside their budgets (tests/budgets.toml).
bench: all
	$(call need,qemu-system-x86_64,qemu-system-x86 (from bookworm-backports; see README))
	$(PYTHON) scripts/bench --build $(BUILD) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
