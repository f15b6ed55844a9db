/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the modegate selftests.
 */
#ifndef _MODEGATE_TEST_H
#define _MODEGATE_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/modegate.h>

#define MG_DEV "/dev/" MODEGATE_DEVICE_NAME

static inline int mg_stats(int fd, struct modegate_stats *st)
{
	return ioctl(fd, MODEGATE_IOC_STATS, st);
}

/* The kernel log buffer, NUL-terminated, to free(); NULL if unreadable. */
static inline char *mg_read_klog(void)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;

	if (len <= 0)
		return NULL;
	buf = malloc(len + 1);
	if (!buf)
		return NULL;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len <= 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Static 32-bit test programs do not link libkmod. */
#ifndef MODEGATE_NO_KMOD
/* mg_load(), mg_unload(), mg_reload(), mg_loaded(): shared with the tool. */
#include "../userspace/kmodload.h"

/* Make sure the module is loaded with default parameters. */
static inline int mg_ensure_default(void)
{
	if (mg_loaded())
		return 0;
	return mg_load("");
}

#endif /* MODEGATE_NO_KMOD */

#ifdef MG_KSFT_TEST
#include "kselftest.h"

/*
 * The kselftest convention: a test program that cannot run here says why
 * and exits 4 (KSFT_SKIP) before any test starts -- when it is not root,
 * or when the module can be neither found nor loaded.  The selftests
 * Makefile defines MG_KSFT_TEST for the test programs only.
 */
static void __attribute__((constructor)) mg_skip_unless_ready(void)
{
	if (geteuid() != 0)
		ksft_exit_skip("the modegate selftests need root\n");
#ifdef MODEGATE_NO_KMOD
	if (access("/sys/module/modegate", F_OK))
		ksft_exit_skip("modegate is not loaded (this static program cannot load it)\n");
#else
	{
		int ret = mg_ensure_default();

		if (ret)
			ksft_exit_skip("cannot load the modegate module: %s\n",
				       strerror(-ret));
	}
#endif
}
#endif /* MG_KSFT_TEST */

/* ---- Helpers for the data path and ABI tests (store, probe, va, abi). ---- */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>

/* Addresses that are never user memory on x86-64. */
#define MG_KADDR_DIRECT_MAP	0xffff888000000000ULL	/* start of the direct map */
#define MG_KADDR_TEXT		0xffffffff81000000ULL	/* default kernel text */

#define MG_PTR(p)	((__u64)(uintptr_t)(p))

/*
 * fork() for a test's children: a child dies with the test process.  A
 * failed assertion ends the test at once; a child it left blocked on a
 * pipe would hold the runner's output pipe open (children inherit it), and
 * the runner would wait on it for good -- no test timeout fires, because
 * the harness already ended.
 */
static inline pid_t mg_fork(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent))
		_exit(99);
	return pid;
}

/* Read a small text file (procfs, sysfs, cgroupfs) NUL-terminated: its length, or -1. */
static inline int mg_read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static inline long mg_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static inline int mg_info(int fd, struct modegate_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(fd, MODEGATE_IOC_INFO, info);
}

/* The store's used length (end of file), or -1. */
static inline long long mg_store_used(int fd)
{
	struct modegate_info info;

	return mg_info(fd, &info) ? -1 : (long long)info.store_used;
}

/*
 * @nr_pages read/write pages followed by one PROT_NONE guard page: a buffer
 * that ends N bytes before the guard is "page-spanning partial".  Returns
 * the start, or MAP_FAILED.
 */
static inline void *mg_map_guarded(size_t nr_pages)
{
	size_t page = mg_page_size();
	char *p;

	p = mmap(NULL, (nr_pages + 1) * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	if (mprotect(p + nr_pages * page, page, PROT_NONE)) {
		munmap(p, (nr_pages + 1) * page);
		return MAP_FAILED;
	}
	memset(p, 0, nr_pages * page);
	return p;
}

static inline void mg_unmap_guarded(void *p, size_t nr_pages)
{
	munmap(p, (nr_pages + 1) * mg_page_size());
}

/* A recognisable byte sequence: byte i of pattern @seed. */
static inline unsigned char mg_pattern_byte(unsigned int seed, size_t i)
{
	return (unsigned char)(seed * 31 + i * 7 + (i >> 8));
}

static inline void mg_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = mg_pattern_byte(seed, i);
}

/* Index of the first byte of @buf that differs from pattern @seed, or -1. */
static inline long mg_pattern_mismatch(const void *buf, size_t len, unsigned int seed)
{
	const unsigned char *b = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != mg_pattern_byte(seed, i))
			return i;
	return -1;
}

/*
 * A private ftrace instance with one modegate event enabled, so that a test
 * sees only its own events.  mg_trace_read() returns a malloc'd string.
 */
#define MG_TRACEFS "/sys/kernel/tracing/instances/"

static inline int mg_trace_write(const char *inst, const char *file, const char *val)
{
	char path[512];
	int fd, ok;

	snprintf(path, sizeof(path), MG_TRACEFS "%s/%s", inst, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -EIO;
}

static inline int mg_trace_start(const char *inst, const char *event)
{
	char path[256], file[128];

	snprintf(path, sizeof(path), MG_TRACEFS "%s", inst);
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	snprintf(file, sizeof(file), "events/modegate/%s/enable", event);
	return mg_trace_write(inst, file, "1");
}

static inline char *mg_trace_read(const char *inst)
{
	char path[256];
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), MG_TRACEFS "%s/trace", inst);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static inline void mg_trace_stop(const char *inst)
{
	char path[256];

	mg_trace_write(inst, "events/modegate/enable", "0");
	snprintf(path, sizeof(path), MG_TRACEFS "%s", inst);
	rmdir(path);
}

/* NULL, hidden from the compiler's nonnull checks. */
static void *volatile mg_null;

/* One private anonymous page filled with @fill, then given @prot. */
static inline void *mg_map_page(int prot, unsigned char fill)
{
	void *p = mmap(NULL, mg_page_size(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return p;
	memset(p, fill, mg_page_size());
	if (mprotect(p, mg_page_size(), prot)) {
		munmap(p, mg_page_size());
		return MAP_FAILED;
	}
	return p;
}

/* One MODEGATE_IOC_PROBE; the output fields start as garbage. */
static inline int mg_probe(int fd, __u64 addr, __u64 len, __u32 op,
			   struct modegate_probe *p)
{
	memset(p, 0x77, sizeof(*p));
	p->addr = addr;
	p->len = len;
	p->op = op;
	p->flags = 0;
	return ioctl(fd, MODEGATE_IOC_PROBE, p);
}

#endif /* _MODEGATE_TEST_H */
