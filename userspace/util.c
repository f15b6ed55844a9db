// SPDX-License-Identifier: GPL-2.0
/*
 * Small helpers: clocks, numbers with units, files, bounded waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mgtool.h"

uint64_t mg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int mg_parse_scaled(const char *s, uint64_t *v, const char *const *units,
			   const uint64_t *scale, unsigned int nunits)
{
	unsigned long long n;
	unsigned int i;
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	for (i = 0; i < nunits; i++) {
		if (strcasecmp(end, units[i]))
			continue;
		if (scale[i] && n > UINT64_MAX / scale[i])
			return -ERANGE;
		*v = n * scale[i];
		return 0;
	}
	return -EINVAL;
}

int mg_parse_u64(const char *s, uint64_t *v)
{
	static const char *const units[] = { "", "k", "m", "g", "kib", "mib", "gib" };
	static const uint64_t scale[] = { 1, 1ULL << 10, 1ULL << 20, 1ULL << 30,
					  1ULL << 10, 1ULL << 20, 1ULL << 30 };

	return mg_parse_scaled(s, v, units, scale, MG_ARRAY_SIZE(units));
}

int mg_parse_duration_ns(const char *s, uint64_t *ns)
{
	static const char *const units[] = { "ns", "us", "ms", "s", "" };
	static const uint64_t scale[] = { 1, 1000, 1000000, 1000000000ULL, 1000000 };

	return mg_parse_scaled(s, ns, units, scale, MG_ARRAY_SIZE(units));
}

void mg_fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int i = 0;

	while (bytes >= 1024 && i + 1 < MG_ARRAY_SIZE(units)) {
		bytes /= 1024;
		i++;
	}
	snprintf(buf, len, bytes == (long long)bytes ? "%.0f %s" : "%.1f %s", bytes, units[i]);
}

void mg_fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
}

int mg_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

int mg_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	return close(fd) ? -errno : 0;
}

/* Wait for @pid at most @timeout_ms (pidfd + poll); kills it on timeout. */
int mg_wait_child(pid_t pid, int timeout_ms)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	int status;

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int n;

		do {
			n = poll(&p, 1, timeout_ms);
		} while (n < 0 && errno == EINTR);
		close(pidfd);
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int mg_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline = mg_now_ns() + (uint64_t)timeout_ms * 1000000;
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(deadline - mg_now_ns()) / 1000000;
		ssize_t n;

		if (left < 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int mg_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

long mg_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? n : 1;
}

int mg_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

void *mg_grow(void *buf, size_t *cap)
{
	void *nb = realloc(buf, *cap * 2);

	if (!nb) {
		free(buf);
		return NULL;
	}
	*cap *= 2;
	return nb;
}
