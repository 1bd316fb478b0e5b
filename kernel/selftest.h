/*
 * Deliberate faults, chosen on the command line with hv.selftest=NAME, so
 * the integration tests can prove that the protections and the exception
 * reporter work on real (emulated) hardware: ud, null, wp, nx, stack.
 */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

void selftest_run(const char *cmdline);

#endif
