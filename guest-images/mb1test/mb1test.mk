# guest-images/mb1test/mb1test.mk -- build the multiboot1 test guest mb1test.elf.
#
# Included by the top-level Makefile (no recursive make). Contract:
#   in:   $(CC) (gcc or clang), $(BUILD) (default "build"), $(Q) (quiet
#         prefix, "@" or empty), $(LD) (GNU ld or ld.lld)
#   out:  $(MB1TEST_ELF) = $(BUILD)/guests/mb1test.elf, a 32-bit multiboot (version 1)
#         ELF linked at 1 MiB; objects in $(BUILD)/guests/mb1test/
# Paths are relative to the project root (where make runs).

BUILD ?= build

# Defining rules here must not change the includer's default goal.
MB1TEST_SAVED_GOAL := $(.DEFAULT_GOAL)

MB1TEST_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
MB1TEST_OUT := $(BUILD)/guests/mb1test
MB1TEST_ELF := $(BUILD)/guests/mb1test.elf
MB1TEST_LDS := $(MB1TEST_DIR)/mb1test.ld

# The compiler's own headers (stdint.h, stdarg.h...): -nostdinc drops
# everything else. clang's -print-file-name=include is not its resource dir.
MB1TEST_CC_INCLUDE := $(shell $(CC) -print-file-name=include 2>/dev/null)
ifneq ($(findstring clang,$(shell $(CC) --version 2>/dev/null)),)
MB1TEST_CC_INCLUDE := $(shell $(CC) -print-resource-dir)/include
endif

MB1TEST_CFLAGS := -m32 -std=c11 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -nostdlib -nostdinc -isystem $(MB1TEST_CC_INCLUDE) -I. \
	-mno-sse -mno-sse2 -mno-mmx -mno-80387 -O2 -g \
	-fno-asynchronous-unwind-tables -fno-common -fno-strict-aliasing \
	-fno-delete-null-pointer-checks \
	-Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
	-MMD -MP
MB1TEST_ASFLAGS := -m32 -fno-pic -fno-pie -I. -g -MMD -MP
MB1TEST_LDFLAGS := -m elf_i386 -nostdlib -static -z max-page-size=0x1000 \
	-z noexecstack -T $(MB1TEST_LDS)

MB1TEST_C_SRCS := $(wildcard $(MB1TEST_DIR)/*.c)
# hvtest's COM1 console and printf subset, shared rather than copied.
MB1TEST_SHARED := guest-images/hvtest/console.c
MB1TEST_S_SRCS := $(wildcard $(MB1TEST_DIR)/*.S)
MB1TEST_C_OBJS := $(patsubst $(MB1TEST_DIR)/%.c,$(MB1TEST_OUT)/%.c.o,$(MB1TEST_C_SRCS))
MB1TEST_S_OBJS := $(patsubst $(MB1TEST_DIR)/%.S,$(MB1TEST_OUT)/%.S.o,$(MB1TEST_S_SRCS))
MB1TEST_SHARED_OBJ := $(MB1TEST_OUT)/hvtest-console.c.o
MB1TEST_OBJS   := $(MB1TEST_S_OBJS) $(MB1TEST_C_OBJS) $(MB1TEST_SHARED_OBJ)

$(MB1TEST_C_OBJS): $(MB1TEST_OUT)/%.c.o: $(MB1TEST_DIR)/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(MB1TEST_CFLAGS) -c $< -o $@

$(MB1TEST_S_OBJS): $(MB1TEST_OUT)/%.S.o: $(MB1TEST_DIR)/%.S
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(MB1TEST_ASFLAGS) -c $< -o $@

$(MB1TEST_SHARED_OBJ): $(MB1TEST_SHARED)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(MB1TEST_CFLAGS) -c $< -o $@

$(MB1TEST_ELF): $(MB1TEST_OBJS) $(MB1TEST_LDS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(MB1TEST_LDFLAGS) -o $@ $(MB1TEST_OBJS)

-include $(MB1TEST_OBJS:.o=.d)

.DEFAULT_GOAL := $(MB1TEST_SAVED_GOAL)
