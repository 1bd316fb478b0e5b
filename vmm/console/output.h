/*
 * Domain output on the shared console; the design is in docs/console.md.
 *
 * Every byte a domain's UART sends goes to its log (conlog.h), then to
 * the terminal unless it is held: while the shell is open, and, for the
 * other domains, while the domain in focus has the screen (a full-screen
 * program). The domain in focus (terminal = "focus", the default) drives
 * the terminal: its escape sequences pass unchanged. The others, and every
 * domain with terminal = "tagged", are sanitised: control bytes show as
 * '.'. Every line starts with "[NAME] ", except the focused domain's while
 * it has the screen; even then a line that would start like "hv:" or "["
 * gets the tag, so no domain forges the hypervisor's or another's lines.
 */
#ifndef VMM_CONSOLE_OUTPUT_H
#define VMM_CONSOLE_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

struct domain;

/* The mode, once, from the configuration. */
void conout_init(bool tagged);
/* Give domain d its log (at build; -ENOMEM after a line). */
int conout_attach(struct domain *d);
/* The shell opens (hold every domain's output) or closes (show it). */
void conout_hold_all(bool hold);
/* Input (and the terminal) moved to d. */
void conout_focus(struct domain *d);
/* Print the last `lines` lines of d's log (sanitised, tagged). */
void conout_print_log(struct domain *d, uint32_t lines);
/* Bytes in d's log, bytes it has written since boot. */
uint64_t conout_log_used(const struct domain *d);
/* At a console event (vmm/console/conin.c): show what waited for a
 * screen that was given back. */
void conout_service(void);

#endif
