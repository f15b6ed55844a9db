// SPDX-License-Identifier: GPL-2.0
/*
 * The system calls the tool makes to the device, counted.  Each one is a
 * user->kernel transition; the tour reports the counts per step and checks
 * them against the module's own counters (MODEGATE_IOC_STATS).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mgtool.h"

struct mg_syscalls mg_sys;

int mg_sys_open(const char *path, int flags)
{
	mg_sys.open++;
	return open(path, flags | O_CLOEXEC);
}

int mg_sys_close(int fd)
{
	mg_sys.close++;
	return close(fd);
}

ssize_t mg_sys_pread(int fd, void *buf, size_t len, off_t off)
{
	mg_sys.read++;
	return pread(fd, buf, len, off);
}

ssize_t mg_sys_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	mg_sys.write++;
	return pwrite(fd, buf, len, off);
}

int mg_sys_ioctl(int fd, unsigned long cmd, void *arg)
{
	mg_sys.ioctl++;
	return ioctl(fd, cmd, arg);
}

unsigned long mg_sys_total(const struct mg_syscalls *s)
{
	return s->open + s->close + s->read + s->write + s->ioctl;
}

void mg_sys_add(struct mg_syscalls *to, const struct mg_syscalls *from)
{
	to->open += from->open;
	to->close += from->close;
	to->read += from->read;
	to->write += from->write;
	to->ioctl += from->ioctl;
}
