/*
 * The management shell on the shared console: Ctrl-] then ':' opens the
 * `hv>` prompt (vmm/console/conin.c), `exit` or Ctrl-] closes it. While it
 * is open, every domain's output waits in its log. Commands are listed in
 * docs/console.md; their names are a contract (extend, never rename).
 */
#ifndef VMM_CONSOLE_SHELL_H
#define VMM_CONSOLE_SHELL_H

#include <stdbool.h>
#include <stdint.h>

struct shell_host {
	void (*poweroff)(void);	/* after every domain is stopped; no return */
	void (*reboot)(void);
};

/* Once, at boot: whether the escape opens the shell, and the machine's
 * power controls. */
void shell_init(bool enabled, const struct shell_host *host);
bool shell_enabled(void);
bool shell_is_open(void);
void shell_open(void);
void shell_close(void);
/* A byte typed while the shell is open. */
void shell_input(uint8_t c);

/* The command line, for the host unit test: run one line as if typed
 * and Enter pressed. */
void shell_run_line(const char *line);

#endif
