/*
 * Console input: bytes typed on the shared console go to the domain in
 * focus. The escape Ctrl-] (0x1d) followed by
 *   n        the next domain,
 *   0 .. 9   domain number N (configuration order),
 *   s        every domain's exit counters,
 *   :        the management shell (vmm/console/shell.h), unless
 *            [hypervisor] shell = false,
 *   Ctrl-]   a literal 0x1d to the focused domain,
 * switches the focus or acts; the hypervisor says where input goes now.
 * While the shell is open, everything typed goes to it, and Ctrl-]
 * closes it.
 */
#ifndef VMM_CONIN_H
#define VMM_CONIN_H

struct domain;

#define CONIN_ESCAPE 0x1d	/* Ctrl-] */

/* Add a built domain to the focus order (boot CPU, before they run). */
void conin_register(struct domain *d);
/* Announce the focus (once, after the domains are registered). */
void conin_start(void);
/* Move the focus to d (the shell's `focus`). */
void conin_focus(struct domain *d);
/* Move what the console has received to the focused domain or the
 * shell. Cheap when nothing is waiting; never blocks (another CPU
 * polling wins). */
void conin_poll(void);
/* At a CPU's safe point: if an NMI came (the console's doorbell, or a
 * kick), poll the console. */
void conin_on_nmi(void);

#endif
