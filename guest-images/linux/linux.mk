# guest-images/linux/linux.mk -- build the Linux guest (bzImage + initrd.gz)
# from Debian packages; see guest-images/linux/README.md.
#
# Included by the top-level Makefile (no recursive make). Contract:
#   in:   $(BUILD) (default "build"), $(Q) (quiet prefix, "@" or empty)
#   out:  $(LINUX_BZIMAGE) = $(BUILD)/guests/linux/bzImage, a stock Debian
#         kernel (linux-image-cloud-amd64), and
#         $(LINUX_INITRD)  = $(BUILD)/guests/linux/initrd.gz, a busybox-static
#         initramfs whose /init is guest-images/linux/init.
#         .debs are cached in $(BUILD)/guests/linux/cache (kept across builds;
#         `rm -rf` it to fetch the newest kernel again).
#   out (device-passthrough variant, target linux-guest-dev; nothing else
#         depends on it):
#         $(LINUX_BZIMAGE_GENERIC) = $(BUILD)/guests/linux/bzImage-generic,
#         the generic Debian kernel (linux-image-amd64), and
#         $(LINUX_INITRD_DEV) = $(BUILD)/guests/linux/initrd-dev.gz, the same
#         initramfs plus the e1000e, nvme and ext4 modules (and their
#         dependencies), loaded by /init at boot.
# Paths are relative to the project root (where make runs). Needs apt's
# lists (apt-get update) and Debian's archive on the first build only.

BUILD ?= build

# Defining rules here must not change the includer's default goal.
LINUX_SAVED_GOAL := $(.DEFAULT_GOAL)

LINUX_DIR     := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
LINUX_OUT     := $(BUILD)/guests/linux
LINUX_BZIMAGE := $(LINUX_OUT)/bzImage
LINUX_INITRD  := $(LINUX_OUT)/initrd.gz
LINUX_BZIMAGE_GENERIC := $(LINUX_OUT)/bzImage-generic
LINUX_INITRD_DEV      := $(LINUX_OUT)/initrd-dev.gz

# tool:package pairs, checked only when the guest is built (recipes are
# expanded just before they run). cpio is optional: without it build.sh
# packs with the cpio applet of the busybox-static .deb.
LINUX_NEED = $(if $(shell command -v $(1) 2>/dev/null),,$(error linux guest: $(1) not found: run 'apt-get install $(2)'))

# Both files come from one run (grouped target, GNU make >= 4.3).
$(LINUX_BZIMAGE) $(LINUX_INITRD) &: $(LINUX_DIR)/build.sh $(LINUX_DIR)/init $(LINUX_DIR)/linux.mk
	$(call LINUX_NEED,apt-get,apt)$(call LINUX_NEED,dpkg-deb,dpkg)$(call LINUX_NEED,gzip,gzip)$(call LINUX_NEED,tar,tar)
	@$(if $(Q),echo "  LINUX   $(LINUX_BZIMAGE) $(LINUX_INITRD)")
	$(Q)bash $(LINUX_DIR)/build.sh $(LINUX_OUT)

.PHONY: linux-guest
linux-guest: $(LINUX_BZIMAGE) $(LINUX_INITRD)

$(LINUX_BZIMAGE_GENERIC) $(LINUX_INITRD_DEV) &: $(LINUX_DIR)/build.sh $(LINUX_DIR)/init $(LINUX_DIR)/linux.mk
	$(call LINUX_NEED,apt-get,apt)$(call LINUX_NEED,dpkg-deb,dpkg)$(call LINUX_NEED,gzip,gzip)$(call LINUX_NEED,tar,tar)
	@$(if $(Q),echo "  LINUX   $(LINUX_BZIMAGE_GENERIC) $(LINUX_INITRD_DEV)")
	$(Q)bash $(LINUX_DIR)/build.sh --dev $(LINUX_OUT)

.PHONY: linux-guest-dev
linux-guest-dev: $(LINUX_BZIMAGE_GENERIC) $(LINUX_INITRD_DEV)

.DEFAULT_GOAL := $(LINUX_SAVED_GOAL)
