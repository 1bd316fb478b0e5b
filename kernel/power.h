/*
 * Powering the machine off and resetting it, the ACPI way first. Both
 * print one line saying what they try and never return: when nothing
 * works they say so and halt this CPU.
 *
 * The caller stops everything else first (other CPUs, domains): these
 * only do the final register writes.
 */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#include "kernel/acpi.h"

/*
 * ACPI S5 (soft off): PM1a_CNT (and PM1b_CNT if there is one) get the
 * DSDT's \_S5 SLP_TYP values and SLP_EN (acpi_s5_sequence). Without the
 * FADT, a usable PM1a control block or \_S5, or if the write has no
 * effect, says why and halts. acpi may be NULL (no ACPI).
 */
__attribute__((noreturn)) void power_off(const struct acpi_info *acpi);

/*
 * Reset: the FADT reset register if it has one, then port 0xCF9 (full
 * reset), then the keyboard controller (command 0xFE); if the machine is
 * still running after all three, says so and halts. acpi may be NULL.
 */
__attribute__((noreturn)) void power_reset(const struct acpi_info *acpi);

#endif
