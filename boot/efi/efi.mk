# boot/efi/efi.mk -- build the UEFI loader BOOTX64.EFI with GNU-EFI.
#
# Included by the top-level Makefile (no recursive make).  Contract:
#   in:   $(CC) (gcc or clang), $(BUILD) (default "build")
#   out:  $(EFI_LOADER) = $(BUILD)/BOOTX64.EFI; objects in $(BUILD)/efi/
# Needs the Debian package gnu-efi (crt0, linker script, libefi, libgnuefi,
# headers); the build stops with a clear message if it is missing.

BUILD ?= build

# Defining rules here must not change the includer's default goal.
EFI_SAVED_GOAL := $(.DEFAULT_GOAL)

EFI_DIR    := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
EFI_OUT    := $(BUILD)/efi
EFI_LOADER := $(BUILD)/BOOTX64.EFI

# GNU-EFI install locations (Debian/Ubuntu layout).
EFI_INC    ?= /usr/include/efi
EFI_LIBDIR ?= /usr/lib
EFI_CRT0   ?= $(EFI_LIBDIR)/crt0-efi-x86_64.o
EFI_LDS    ?= $(EFI_LIBDIR)/elf_x86_64_efi.lds
# The GNU-EFI linker script and the efi-app-x86_64 target need GNU binutils.
EFI_LD      ?= ld
EFI_OBJCOPY ?= objcopy

EFI_SRCS := $(wildcard $(EFI_DIR)/*.c)
EFI_OBJS := $(patsubst $(EFI_DIR)/%.c,$(EFI_OUT)/%.o,$(EFI_SRCS))
EFI_SO   := $(EFI_OUT)/hv-efi-loader.so

# Flags $(CC) may not know (clang rejects -maccumulate-outgoing-args):
# probe once, on first use.
efi_cc_flag = $(shell $(CC) -Werror $(1) -x c -c -o /dev/null /dev/null \
		>/dev/null 2>&1 && echo $(1))
EFI_CC_OPT = $(eval EFI_CC_OPT := $(call efi_cc_flag,-maccumulate-outgoing-args))$(EFI_CC_OPT)

# Firmware calls go through uefi_call_wrapper() -> efi_callN() (no
# GNU_EFI_USE_MS_ABI), so EFI_FUNCTION_WRAPPER is not needed.  GNU-EFI's
# headers are -isystem so that -Werror only applies to our code.
EFI_CFLAGS = -std=c11 -O2 -g -ffreestanding -fpic -fshort-wchar \
	-mno-red-zone -fno-stack-protector -fno-strict-aliasing \
	-fno-builtin $(EFI_CC_OPT) \
	-Wall -Wextra -Werror \
	-isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 \
	-MMD -MP

EFI_LDFLAGS = -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic \
	-L $(EFI_LIBDIR)

# Sections that make up the PE image (as in GNU-EFI's own Make.rules).
EFI_SECTIONS = -j .text -j .sdata -j .data -j .dynamic -j .dynsym \
	-j .rel -j .rela -j '.rel.*' -j '.rela.*' -j .reloc

.PHONY: efi-check-gnu-efi
efi-check-gnu-efi:
	@for f in $(EFI_INC)/efi.h $(EFI_INC)/x86_64/efibind.h $(EFI_CRT0) \
		  $(EFI_LDS) $(EFI_LIBDIR)/libefi.a $(EFI_LIBDIR)/libgnuefi.a; do \
		test -f $$f || { \
		  echo "efi.mk: $$f is missing: install the Debian package" \
		       "'gnu-efi' (apt-get install gnu-efi)" >&2; exit 1; }; \
	done

# $(Q) is the top level's quiet-mode prefix ("@" unless V=1); empty when
# this file is used on its own, which shows the full commands.
$(EFI_OBJS): $(EFI_OUT)/%.o: $(EFI_DIR)/%.c | efi-check-gnu-efi
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

$(EFI_SO): $(EFI_OBJS) | efi-check-gnu-efi
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(EFI_LD) $(EFI_LDFLAGS) $(EFI_CRT0) $(EFI_OBJS) -o $@ \
		-lefi -lgnuefi

$(EFI_LOADER): $(EFI_SO)
	@$(if $(Q),echo "  OBJCOPY $@")
	$(Q)$(EFI_OBJCOPY) $(EFI_SECTIONS) --target efi-app-x86_64 $< $@

-include $(EFI_OBJS:.o=.d)

.DEFAULT_GOAL := $(EFI_SAVED_GOAL)
