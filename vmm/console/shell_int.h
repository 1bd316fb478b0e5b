/* Between the shell's line editor (shell.c) and its commands (shell_cmds.c). */
#ifndef VMM_CONSOLE_SHELL_INT_H
#define VMM_CONSOLE_SHELL_INT_H

#include "vmm/console/shell.h"

#define SHELL_LINE_MAX 120

extern const struct shell_host *shell_host;
void shell_prompt(void);
void shell_leave(void);
/* Forget a question asked (reboot, poweroff) when the shell opens. */
void shell_forget(void);

#endif
