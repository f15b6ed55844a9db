// SPDX-License-Identifier: GPL-2.0
/*
 * The journey of async requests, from the module's trace events: for each
 * request its submit, its interrupt, its delivery (or deliveries: BUFFERED
 * is copied into a kernel buffer by the delivery thread, then by the originator at
 * reap) and its reap, each with the CPU, the task that ran it and the trace
 * timestamp.  svg.c draws it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgtool.h"

/* The value of " @key=" in @details, copied into @buf; false if absent. */
static bool mg_kv(const char *details, const char *key, char *buf, size_t len)
{
	char pat[32];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), "%s=", key);
	for (p = strstr(details, pat); p && p != details && p[-1] != ' ';)
		p = strstr(p + 1, pat);
	if (!p)
		return false;
	p += strlen(pat);
	n = strcspn(p, " ");
	snprintf(buf, len, "%.*s", (int)n, p);
	return true;
}

static long long mg_kv_num(const char *details, const char *key)
{
	char v[32];

	return mg_kv(details, key, v, sizeof(v)) ? strtoll(v, NULL, 0) : -1;
}

/* "12345.678901" (seconds.microseconds) in nanoseconds. */
static uint64_t mg_trace_ts_ns(const char *ts)
{
	char *dot;
	uint64_t ns = strtoull(ts, &dot, 10) * 1000000000ULL;

	if (*dot == '.')
		ns += strtoull(dot + 1, NULL, 10) * 1000ULL;
	return ns;
}

static int mg_journey_req(struct mg_journey *j, uint64_t user_data)
{
	unsigned int i;

	for (i = 0; i < j->nreq; i++)
		if (j->req[i].user_data == user_data)
			return i;
	if (j->nreq == MG_JOURNEY_REQS)
		return -1;
	j->req[j->nreq].user_data = user_data;
	return j->nreq++;
}

static struct mg_jevent *mg_journey_add(struct mg_journey *j, const struct mg_trace_event *e,
					enum mg_jkind kind, int req)
{
	struct mg_jevent *ev;

	if (req < 0 || j->nev == MG_JOURNEY_EVENTS)
		return NULL;
	ev = &j->ev[j->nev++];
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->req = req;
	ev->t_ns = mg_trace_ts_ns(e->ts);
	ev->cpu = e->cpu;
	ev->pid = e->pid;
	snprintf(ev->comm, sizeof(ev->comm), "%s", e->comm ? e->comm : "?");
	return ev;
}

/* A REAP ioctl that returned n: the next n posted completions, in order. */
static void mg_journey_reap(struct mg_journey *j, const struct mg_trace_event *e, long long n)
{
	while (n-- > 0 && j->nreaped < j->nposted)
		mg_journey_add(j, e, MG_J_REAP, j->posted[j->nreaped++]);
}

/* mg_trace_snapshot() callback: one trace line into the journey @ctx. */
void mg_journey_line(char *line, void *ctx)
{
	struct mg_journey *j = ctx;
	struct mg_trace_event e;
	struct mg_jevent *ev;
	int req;

	if (!mg_trace_parse(line, &e))
		return;
	if (!strcmp(e.event, "modegate_ioctl")) {
		if (!strncmp(e.details, "MODEGATE_IOC_ASYNC_REAP ", 24) && strstr(e.details, "-> "))
			mg_journey_reap(j, &e, strtoll(strstr(e.details, "-> ") + 3, NULL, 10));
		return;
	}
	if (strncmp(e.event, "modegate_async_", 15))
		return;
	req = mg_journey_req(j, mg_kv_num(e.details, "user_data"));
	if (!strcmp(e.event, "modegate_async_submit")) {
		mg_journey_add(j, &e, MG_J_SUBMIT, req);
	} else if (!strcmp(e.event, "modegate_async_irq")) {
		ev = mg_journey_add(j, &e, MG_J_IRQ, req);
		/* The event's own record of the interrupted task. */
		if (ev && mg_kv(e.details, "comm", ev->comm, sizeof(ev->comm)))
			ev->pid = mg_kv_num(e.details, "pid");
	} else if (!strcmp(e.event, "modegate_async_deliver")) {
		ev = mg_journey_add(j, &e, MG_J_DELIVER, req);
		if (ev)
			mg_kv(e.details, "via", ev->via, sizeof(ev->via));
		if (ev && strstr(e.details, "-> "))
			ev->result = strtoll(strstr(e.details, "-> ") + 3, NULL, 10);
	} else if (!strcmp(e.event, "modegate_async_complete") && req >= 0 &&
		   j->nposted < MG_JOURNEY_REQS) {
		j->posted[j->nposted++] = req;
	}
}
