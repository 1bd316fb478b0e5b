/*
 * Console input: bytes typed on the shared console go to the domain in
 * focus. The escape Ctrl-] (0x1d) followed by
 *   n        the next domain,
 *   0 .. 9   domain number N (configuration order),
 *   Ctrl-]   a literal 0x1d to the focused domain,
 * switches the focus; the hypervisor says where input goes now.
 */
#ifndef VMM_CONIN_H
#define VMM_CONIN_H

struct domain;

#define CONIN_ESCAPE 0x1d	/* Ctrl-] */

/* Add a running domain to the focus order (boot CPU, before they run). */
void conin_register(struct domain *d);
/* Announce the focus (once, after the domains are registered). */
void conin_start(void);
/* Move what the console has received to the focused domain. Cheap when
 * nothing is waiting; never blocks (another CPU polling wins). */
void conin_poll(void);
/* At a CPU's safe point: if an NMI came (the console's doorbell, or a
 * kick), poll the console. */
void conin_on_nmi(void);

#endif
