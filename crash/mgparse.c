// SPDX-License-Identifier: GPL-2.0
/*
 * mgparse: the user-mode half of the blast-radius demo (make crash), and
 * the VM's "applications".
 *
 *   mgparse blob FILE               write the lying blob: it claims 2^28
 *                                   records and holds 3
 *   mgparse beat NAME MS            print "beat NAME SECONDS" every MS ms,
 *                                   for ever (a heartbeat, an application)
 *   mgparse parse WHERE HOW FILE MS the parser application: beats, parses
 *                                   FILE, beats on if it is still alive
 *       WHERE: user (record.h's parser, here) or kernel (a write to
 *       /dev/mgcrash: the module's parser); HOW: trusting or validated
 *       (in the kernel the module's validate= parameter decides).
 *
 * Times are CLOCK_BOOTTIME, the clock of the kernel log's timestamps.
 * Every line is one write(2), so lines of several processes sharing the
 * VM's output port do not mix.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record.h"

#define BEATS_AROUND_THE_PARSE	8

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDOUT_FILENO, line, n) != n)
		exit(3);
}

static void beat(const char *name, unsigned int ms, unsigned int times)
{
	struct timespec next;
	unsigned int i;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; !times || i < times; i++) {
		say("beat %s %.3f", name, now());
		next.tv_nsec += ms * 1000000L;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}

/*
 * One line in the kernel log with this clock's time: the kernel log's
 * timestamps (local_clock) run a little apart from CLOCK_BOOTTIME; the
 * host lines the two up at this line.
 */
static void kmsg_anchor(void)
{
	char line[64];
	int fd = open("/dev/kmsg", O_WRONLY);
	int n;

	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "mgparse: anchor %.6f\n", now());
	if (write(fd, line, n) != n)
		n = 0;
	close(fd);
}

static int write_blob(const char *path)
{
	struct {
		struct mgcrash_header h;
		struct mgcrash_record r[3];
	} blob = {
		.h = { .magic = MGCRASH_MAGIC, .count = 1U << 28 },
		.r = { { 1, 0, 10 }, { 2, 0, 20 }, { 3, 0, 30 } },
	};
	FILE *f = fopen(path, "w");

	if (!f || fwrite(&blob, sizeof(blob), 1, f) != 1 || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

/*
 * The blob in memory as the kernel parser has it in vmalloc() space: at
 * the start of a page, with an unmapped page after its last page.
 */
static void *load_guarded(const char *path, size_t *len)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stat st;
	size_t span;
	char *p;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		return NULL;
	*len = st.st_size;
	span = (*len + page - 1) / page * page;
	p = mmap(NULL, span + page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mprotect(p + span, page, PROT_NONE) ||
	    read(fd, p, *len) != (ssize_t)*len)
		p = NULL;
	close(fd);
	return p;
}

static long parse_user(const char *how, const char *path, __u64 *sum)
{
	size_t len;
	void *blob = load_guarded(path, &len);

	if (!blob)
		return -errno;
	if (!strcmp(how, "validated"))
		return mgcrash_parse_validated(blob, len, sum);
	return mgcrash_parse_trusting(blob, len, sum);
}

static long parse_kernel(const char *path)
{
	char buf[4096];
	ssize_t len, n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len < 0)
		return -errno;
	fd = open("/dev/mgcrash", O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	n = n < 0 ? -errno : n;
	close(fd);
	return n;
}

static int parse(const char *where, const char *how, const char *path,
		 unsigned int ms)
{
	__u64 sum = 0;
	long n;

	beat("parser", ms, BEATS_AROUND_THE_PARSE);
	say("event parser %.3f parse %s %s", now(), where, how);
	kmsg_anchor();
	n = strcmp(where, "kernel") ? parse_user(how, path, &sum) : parse_kernel(path);
	if (n < 0)
		say("event parser %.3f outcome %s", now(), strerrorname_np(-n));
	else
		say("event parser %.3f outcome parsed %ld sum %llu", now(), n,
		    (unsigned long long)sum);
	beat("parser", ms, BEATS_AROUND_THE_PARSE);
	return n == -EINVAL ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "blob"))
		return write_blob(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "beat")) {
		beat(argv[2], atoi(argv[3]), 0);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "parse"))
		return parse(argv[2], argv[3], argv[4], atoi(argv[5]));
	fprintf(stderr, "usage: mgparse blob FILE | beat NAME MS | parse user|kernel trusting|validated FILE MS\n");
	return 2;
}
