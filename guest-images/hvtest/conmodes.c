/*
 * console=MODE: guests for the console's own tests (tests/run.py).
 *   ticker  prints "hvtest: tick N" about twice a second, forever, and
 *           answers each line typed to it with "hvtest: got 'LINE'";
 *           "quit" ends it (the domain powers off).
 *   flood   prints FLOOD_LINES long lines as fast as the UART takes them,
 *           "hvtest: flood done", then ticks as `ticker`.
 *   ansi    prints colour, cursor movement and the alternate screen, then
 *           ticks as `ticker`.
 *   spin    says so, then spins with interrupts off and no exit at all:
 *           only an NMI takes its CPU back.
 */
#include "hvtest.h"
#include "io.h"

#define FLOOD_LINES 4000
#define TICK_TSC (1ull << 29)

static uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static __attribute__((noreturn)) void ticker(void)
{
	char line[64];
	uint32_t n = 0, tick = 0;
	uint64_t next = tsc();

	for (;;) {
		if (tsc() >= next) {
			con_printf("hvtest: tick %u\n", tick++);
			next = tsc() + TICK_TSC;
		}
		for (volatile uint32_t spin = 0; spin < 20000; spin++)
			__asm__ volatile("pause");
		if (!(inb(0x3f8 + 5) & 1))
			continue;
		char c = (char)inb(0x3f8);
		if (c != '\r' && c != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		n = 0;
		con_printf("hvtest: got '%s'\n", line);
		if (str_eq(line, "quit")) {
			con_printf("hvtest: done, 0 passed, 0 failed\n");
			power_off();
		}
	}
}

static void flood(void)
{
	for (uint32_t i = 0; i < FLOOD_LINES; i++)
		con_printf("hvtest: flood %u ................................................"
			   "............................................................\n", i);
	con_printf("hvtest: flood done\n");
}

static void ansi(void)
{
	con_printf("hvtest: ansi \x1b[1;31mRED\x1b[0m \x1b[4Cafter-move\n");
	con_printf("\x1b[?1049h\x1b[2J\x1b[Hhvtest: full screen\n");
	con_printf("hv: forged\n");
	con_printf("\x1b[?1049lhvtest: ansi done\n");
}

__attribute__((noreturn)) void console_mode_run(const char *mode)
{
	if (str_eq(mode, "flood"))
		flood();
	else if (str_eq(mode, "ansi"))
		ansi();
	else if (str_eq(mode, "spin")) {
		con_printf("hvtest: spinning with interrupts off\n");
		for (;;)
			__asm__ volatile("cli" ::: "memory");
	}
	ticker();
}
