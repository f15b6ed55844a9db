// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel log lines an action caused: mark /dev/kmsg before it, collect
 * the records after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mgtool.h"

void mg_kmsg_mark(struct mg_kmsg *k)
{
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd >= 0)
		lseek(k->fd, 0, SEEK_END);
}

static bool mg_kmsg_is_splat(const char *msg)
{
	static const char *const words[] = {
		"BUG:", "Oops", "WARNING:", "Call Trace", "general protection",
		"Kernel panic", "KASAN", "UBSAN",
	};
	unsigned int i;

	for (i = 0; i < MG_ARRAY_SIZE(words); i++)
		if (strstr(msg, words[i]))
			return true;
	return false;
}

/*
 * Each record is "prio,seq,usec,flags;message\n" followed by optional
 * " KEY=value" lines.  Prints the module's lines (or every line with @all)
 * and any splat; returns the number printed, -errno when unreadable.
 */
int mg_kmsg_collect(struct mg_kmsg *k, const char *key, bool all, int *splats)
{
	char rec[2048];
	int shown = 0;

	if (k->fd < 0)
		return -EACCES;
	for (;;) {
		unsigned long long usec;
		char *msg, *nl;
		ssize_t n = read(k->fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE)	/* overwritten: skip ahead */
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg || sscanf(rec, "%*u,%*u,%llu", &usec) != 1)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (mg_kmsg_is_splat(msg)) {
			if (splats)
				(*splats)++;
		} else if (!all && strncmp(msg, "modegate", 8)) {
			continue;
		}
		out_line(key, "[%5llu.%06llu] %s", usec / 1000000, usec % 1000000, msg);
		shown++;
	}
	return shown;
}

void mg_kmsg_close(struct mg_kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}
