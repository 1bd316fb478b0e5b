/*
 * The C string functions the hypervisor uses, with their standard names and
 * prototypes (kernel/string.c implements them; host unit tests get them
 * from libc). The compiler may also emit calls to memcpy/memset/memmove/
 * memcmp on its own, which is why the names must be the standard ones.
 */
#ifndef KERNEL_STRING_H
#define KERNEL_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif
