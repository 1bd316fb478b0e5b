# guest-images/hvtest/hvtest.mk -- build the test guest hvtest.elf.
#
# Included by the top-level Makefile (no recursive make). Contract:
#   in:   $(CC) (gcc or clang), $(BUILD) (default "build"), $(Q) (quiet
#         prefix, "@" or empty), $(LD) (GNU ld or ld.lld)
#   out:  $(HVTEST_ELF) = $(BUILD)/guests/hvtest.elf, a 32-bit multiboot2
#         ELF linked at 1 MiB; objects in $(BUILD)/guests/hvtest/
# Paths are relative to the project root (where make runs).

BUILD ?= build

# Defining rules here must not change the includer's default goal.
HVTEST_SAVED_GOAL := $(.DEFAULT_GOAL)

HVTEST_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
HVTEST_OUT := $(BUILD)/guests/hvtest
HVTEST_ELF := $(BUILD)/guests/hvtest.elf
HVTEST_LDS := $(HVTEST_DIR)/hvtest.ld

# The compiler's own headers (stdint.h, stdarg.h...): -nostdinc drops
# everything else. clang's -print-file-name=include is not its resource dir.
HVTEST_CC_INCLUDE := $(shell $(CC) -print-file-name=include 2>/dev/null)
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
HVTEST_CC_INCLUDE := $(shell $(CC) -print-resource-dir)/include
endif

HVTEST_CFLAGS := -m32 -std=c11 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -nostdlib -nostdinc -isystem $(HVTEST_CC_INCLUDE) -I. \
	-mno-sse -mno-sse2 -mno-mmx -mno-80387 -O2 -g \
	-fno-asynchronous-unwind-tables -fno-common -fno-strict-aliasing \
	-fno-delete-null-pointer-checks \
	-Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-MMD -MP
HVTEST_ASFLAGS := -m32 -fno-pic -fno-pie -I. -g -MMD -MP
HVTEST_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=0x1000 \
	-z noexecstack -T $(HVTEST_LDS)

HVTEST_C_SRCS := $(wildcard $(HVTEST_DIR)/*.c)
HVTEST_S_SRCS := $(wildcard $(HVTEST_DIR)/*.S)
HVTEST_C_OBJS := $(patsubst $(HVTEST_DIR)/%.c,$(HVTEST_OUT)/%.c.o,$(HVTEST_C_SRCS))
HVTEST_S_OBJS := $(patsubst $(HVTEST_DIR)/%.S,$(HVTEST_OUT)/%.S.o,$(HVTEST_S_SRCS))
HVTEST_OBJS   := $(HVTEST_S_OBJS) $(HVTEST_C_OBJS)

$(HVTEST_C_OBJS): $(HVTEST_OUT)/%.c.o: $(HVTEST_DIR)/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HVTEST_CFLAGS) -c $< -o $@

$(HVTEST_S_OBJS): $(HVTEST_OUT)/%.S.o: $(HVTEST_DIR)/%.S
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(HVTEST_ASFLAGS) -c $< -o $@

$(HVTEST_ELF): $(HVTEST_OBJS) $(HVTEST_LDS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(HVTEST_LDFLAGS) -o $@ $(HVTEST_OBJS)

-include $(HVTEST_OBJS:.o=.d)

.DEFAULT_GOAL := $(HVTEST_SAVED_GOAL)
