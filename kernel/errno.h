/*
 * Error codes. Functions return 0 or a negative errno; trace_error() marks
 * where an error starts by logging file and line (at debug level) and
 * passes the code through: `return trace_error(-EINVAL);`.
 */
#ifndef KERNEL_ERRNO_H
#define KERNEL_ERRNO_H

#define EPERM   1
#define ENOENT  2
#define EIO     5
#define E2BIG   7
#define ENOEXEC 8
#define ENOMEM  12
#define EFAULT  14
#define EBUSY   16
#define EEXIST  17
#define ENODEV  19
#define EINVAL  22
#define ENOSPC  28
#define ERANGE  34
#define ENOSYS  38
#define ENODATA 61
#define EOVERFLOW 75
#define EBADMSG 74
#define ENOTSUP 95

int trace_error_at(const char *file, int line, int code);
#define trace_error(code) trace_error_at(__FILE__, __LINE__, (code))

#endif
