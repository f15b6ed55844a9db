// SPDX-License-Identifier: GPL-2.0
/*
 * modegate trace: follow the module's trace events live.  Every reader of
 * the events (this command, the async command's picture, the tour) uses a
 * private tracefs instance, instances/modegate-PID, with only events/modegate
 * enabled and the mono clock (the completions' CLOCK_MONOTONIC), so that it
 * never disturbs another tracer.  The instance is removed on exit, on SIGINT
 * and on SIGTERM, with the other settings the tool put back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mgtool.h"

/*
 * Settings to put back: (path, old value) pairs, restored in reverse order
 * by mg_restore_all(), which uses only async-signal-safe calls.
 */
#define MG_RESTORE_MAX 8
static struct {
	char path[128];
	char val[32];
	bool rmdir;		/* remove the directory @path instead */
	int close_fd;		/* first close this fd (-1: none) */
} mg_restore[MG_RESTORE_MAX];
static volatile sig_atomic_t mg_nrestore;
static volatile sig_atomic_t mg_stop_signal;

int mg_restore_push(const char *path, const char *val)
{
	if (mg_nrestore >= MG_RESTORE_MAX)
		return -ENOSPC;
	snprintf(mg_restore[mg_nrestore].path, sizeof(mg_restore[0].path), "%s", path);
	snprintf(mg_restore[mg_nrestore].val, sizeof(mg_restore[0].val), "%s", val ? val : "");
	mg_restore[mg_nrestore].rmdir = !val;
	mg_restore[mg_nrestore].close_fd = -1;
	mg_nrestore++;
	return 0;
}

/* The last pushed entry closes @fd before it acts (a pipe keeps rmdir busy). */
void mg_restore_close_first(int fd)
{
	if (mg_nrestore)
		mg_restore[mg_nrestore - 1].close_fd = fd;
}

int mg_restore_mark(void)
{
	return mg_nrestore;
}

void mg_restore_to(int mark)
{
	while (mg_nrestore > mark) {
		int i = --mg_nrestore, fd;

		if (mg_restore[i].close_fd >= 0)
			close(mg_restore[i].close_fd);
		if (mg_restore[i].rmdir) {
			rmdir(mg_restore[i].path);
			continue;
		}
		fd = open(mg_restore[i].path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			/* Nothing better to do on failure while exiting. */
			ssize_t n = write(fd, mg_restore[i].val, strlen(mg_restore[i].val));

			(void)n;
			close(fd);
		}
	}
}

void mg_restore_all(void)
{
	mg_restore_to(0);
}

/* Set @path to @val, remembering the old value for mg_restore_all(). */
int mg_set_restorable(const char *path, const char *val)
{
	char old[32];
	int ret = mg_read_file(path, old, sizeof(old));

	if (ret)
		return ret;
	if (!strcmp(old, val))
		return 0;
	ret = mg_restore_push(path, old);
	return ret ? ret : mg_write_file(path, val);
}

static void mg_on_signal(int sig)
{
	mg_stop_signal = sig;
}

/* SIGINT/SIGTERM set a flag and interrupt blocking calls (no SA_RESTART). */
void mg_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mg_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int mg_stop_requested(void)
{
	return mg_stop_signal;
}

static const char *mg_tracefs(void)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	unsigned int i;
	char p[128];

	for (i = 0; i < MG_ARRAY_SIZE(roots); i++) {
		snprintf(p, sizeof(p), "%s/instances", roots[i]);
		if (!access(p, F_OK))
			return roots[i];
	}
	return NULL;
}

static int mg_trace_set(struct mg_trace *t, const char *file, const char *val)
{
	char p[192];

	snprintf(p, sizeof(p), "%s/%s", t->dir, file);
	return mg_write_file(p, val);
}

/*
 * Make the private instance, with events/modegate on; with @follow, open
 * its trace_pipe for mg_trace_read().  0 or -errno (-ENOENT: no tracefs,
 * -ENODEV: no modegate events, the module is not loaded).
 */
int mg_trace_start(struct mg_trace *t, bool follow)
{
	const char *root = mg_tracefs();
	char p[192];
	int ret;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->restore_mark = mg_restore_mark();
	if (!root)
		return -ENOENT;
	snprintf(t->root, sizeof(t->root), "%s", root);
	snprintf(p, sizeof(p), "%s/events/modegate", root);
	if (access(p, F_OK))
		return -ENODEV;
	snprintf(t->dir, sizeof(t->dir), "%s/instances/modegate-%d", root, (int)getpid());
	if (mkdir(t->dir, 0700) && errno != EEXIST)
		return -errno;
	ret = mg_restore_push(t->dir, NULL);
	if (ret)
		return ret;
	mg_trace_set(t, "trace_clock", "mono");	/* else the default clock */
	ret = mg_trace_set(t, "events/modegate/enable", "1");
	if (ret || !follow)
		return ret;
	snprintf(p, sizeof(p), "%s/trace_pipe", t->dir);
	t->fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0)
		return -errno;
	mg_restore_close_first(t->fd);
	return 0;
}

/* Explain why mg_trace_start() failed, undo it; the exit code. */
int mg_trace_fail(struct mg_trace *t, int err)
{
	if (err == -ENOENT)
		out_error(-err, "tracefs", "mount it: mount -t tracefs nodev /sys/kernel/tracing");
	else if (err == -ENODEV)
		out_error(ENOENT, "events/modegate", "the module is not loaded ('modegate load')");
	else if (err == -EACCES || err == -EPERM)
		out_error(-err, "tracefs", "tracing needs root");
	else
		out_error(-err, "tracefs", NULL);
	mg_trace_stop(t);
	return err == -ENODEV ? MG_EXIT_NODEV : MG_EXIT_FAIL;
}

/* Empty the instance's buffer (before a run whose events are wanted alone). */
int mg_trace_clear(struct mg_trace *t)
{
	char p[192];
	int fd;

	snprintf(p, sizeof(p), "%s/trace", t->dir);
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);	/* the truncation clears */
	if (fd < 0)
		return -errno;
	return close(fd) ? -errno : 0;
}

/* Call @fn on each event line the instance's buffer holds now. */
int mg_trace_snapshot(struct mg_trace *t, void (*fn)(char *line, void *ctx), void *ctx)
{
	char p[192], *buf, *line, *save;
	size_t len = 0, cap = 1 << 16;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/trace", t->dir);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = mg_grow(buf, &cap);
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	buf[len] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (*line != '#')
			fn(line, ctx);
	free(buf);
	return 0;
}

/*
 * Parse "  task-pid  [cpu] flags  secs.usecs: event: details" into @e;
 * false if the line has another shape.
 */
bool mg_trace_parse(char *line, struct mg_trace_event *e)
{
	char *br = strstr(line, " [");
	char *p, *dash, *colon;

	memset(e, 0, sizeof(*e));
	while (br && !(br[2] >= '0' && br[2] <= '9'))
		br = strstr(br + 1, " [");
	if (!br)
		return false;
	*br = 0;
	p = line;
	while (*p == ' ')
		p++;
	dash = strrchr(p, '-');
	if (!dash)
		return false;
	*dash = 0;
	e->comm = strcmp(p, "<...>") ? p : NULL;	/* not in the comm cache */
	e->pid = atoi(dash + 1);
	e->cpu = atoi(br + 2);
	p = strchr(br + 2, ']');
	if (!p)
		return false;
	/* optional irq-info flags, then the timestamp ending in ':' */
	for (p++; *p == ' '; p++)
		;
	colon = strstr(p, ": ");
	if (!colon)
		return false;
	*colon = 0;
	e->ts = strrchr(p, ' ') ? strrchr(p, ' ') + 1 : p;
	p = colon + 2;
	colon = strstr(p, ": ");
	if (!colon)
		return false;
	*colon = 0;
	e->event = p;
	e->details = colon + 2;
	return true;
}

/* Read what trace_pipe has within @timeout_ms; calls @fn per line. */
int mg_trace_read(struct mg_trace *t, int timeout_ms, void (*fn)(char *line, void *ctx),
		  void *ctx)
{
	struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
	int n, lines = 0;
	ssize_t len;
	char *nl, *s;

	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (!n)
		return 0;
	len = read(t->fd, t->buf + t->used, sizeof(t->buf) - 1 - t->used);
	if (len < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	t->used += len;
	t->buf[t->used] = 0;
	s = t->buf;
	while ((nl = strchr(s, '\n'))) {
		*nl = 0;
		fn(s, ctx);
		lines++;
		s = nl + 1;
	}
	t->used -= s - t->buf;
	memmove(t->buf, s, t->used);
	if (t->used == sizeof(t->buf) - 1)	/* a line longer than the buffer */
		t->used = 0;
	return lines;
}

/* Close the instance's pipe and remove the instance. */
void mg_trace_stop(struct mg_trace *t)
{
	if (t->dir[0])
		mg_trace_set(t, "events/modegate/enable", "0");
	mg_restore_to(t->restore_mark);
	t->fd = -1;
}

struct trace_state {
	bool raw;
	unsigned long seen, limit;
};

static void trace_line(char *line, void *ctx)
{
	struct trace_state *st = ctx;
	struct mg_trace_event e;

	if (st->limit && st->seen >= st->limit)
		return;
	st->seen++;
	if (st->raw || !mg_trace_parse(line, &e)) {
		out_row();
		out_null(NULL);
		out_null(NULL);
		out_null(NULL);
		out_null(NULL);
		out_str(NULL, "%s", line);
		out_close();
		return;
	}
	out_row();
	out_str(NULL, "%s", e.ts);
	out_u64(NULL, e.cpu);
	if (e.comm)
		out_str(NULL, "%s/%d", e.comm, e.pid);
	else
		out_u64(NULL, e.pid);
	out_str(NULL, "%s", e.event);
	out_str(NULL, "%s", e.details);
	out_close();
}

/*
 * Print events until a signal, @timeout_ns (0: none), st->limit events, or
 * shortly after @child (0: none) exited; a child still running is stopped.
 */
static int trace_follow(struct mg_trace *t, struct trace_state *st, uint64_t timeout_ns,
			pid_t child)
{
	uint64_t deadline = timeout_ns ? mg_now_ns() + timeout_ns : 0, drain_until = 0;
	int ret, rc = MG_EXIT_OK, status;

	while (!mg_stop_requested() && !(st->limit && st->seen >= st->limit)) {
		uint64_t now = mg_now_ns();

		if ((deadline && now >= deadline) || (drain_until && now >= drain_until))
			break;
		ret = mg_trace_read(t, 100, trace_line, st);
		if (ret < 0) {
			out_error(-ret, "trace_pipe", NULL);
			rc = MG_EXIT_FAIL;
			break;
		}
		if (child > 0 && !drain_until && waitpid(child, &status, WNOHANG) == child) {
			drain_until = mg_now_ns() + 300000000;	/* the last events */
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				rc = MG_EXIT_FAIL;
		}
	}
	if (child > 0 && !drain_until) {
		kill(child, SIGTERM);
		waitpid(child, &status, 0);
	}
	return rc;
}

static int trace_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "raw", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const cols[] = { "time", "cpu", "task", "event", "details" };
	static const int widths[] = { 14, 3, 20, 22, 0 };
	struct trace_state st = { 0 };
	uint64_t timeout_ns = 0, v;
	bool timeout_given = false;
	struct mg_trace t;
	pid_t child = 0;
	int c, ret, rc;

	while ((c = mg_getopt(argc, argv, &mg_cmd_trace, "n:t:r", opts)) != -1) {
		if (c == 'n' && (mg_parse_u64(optarg, &v) || !v))
			return mg_usage_error(&mg_cmd_trace, "bad --count '%s'", optarg);
		if (c == 'n')
			st.limit = v;
		if (c == 't' && mg_parse_duration_ns(optarg, &timeout_ns))
			return mg_usage_error(&mg_cmd_trace, "bad --timeout '%s' (e.g. 5s, 500ms)",
					      optarg);
		if (c == 't')
			timeout_given = true;
		if (c == 'r')
			st.raw = true;
	}
	if (!timeout_given && !st.limit && optind == argc)
		timeout_ns = 10000000000ULL;	/* never unbounded by accident */
	if (timeout_given && !timeout_ns && !st.limit && optind == argc && !isatty(STDIN_FILENO))
		return mg_usage_error(&mg_cmd_trace, "--timeout 0 only on a terminal (stop with ^C)");

	out_begin();
	mg_catch_stop_signals();
	ret = mg_trace_start(&t, true);
	if (ret)
		return out_end(mg_trace_fail(&t, ret));
	if (optind < argc) {
		fflush(stdout);
		child = fork();
		if (child == 0) {
			dup2(STDERR_FILENO, STDOUT_FILENO);	/* keep our stdout clean */
			execvp(argv[optind], argv + optind);
			fprintf(stderr, "modegate trace: %s: %s\n", argv[optind], strerror(errno));
			_exit(127);
		}
	}
	out_str("tracefs", "%s", t.dir);
	out_table_stream("events", cols, widths, MG_ARRAY_SIZE(cols));
	rc = trace_follow(&t, &st, timeout_ns, child);
	out_close();
	mg_trace_stop(&t);
	out_u64("events_seen", st.seen);
	if (mg_stop_requested())
		out_str("stopped_by", "%s", strsignal(mg_stop_requested()));
	return out_end(rc);
}

MG_COMMAND(trace, "[--count N] [--timeout T] [--raw] [-- COMMAND [ARGS...]]",
	   "follow the module's trace events live (tracefs events/modegate)",
	   "  -n, --count N    stop after N events\n"
	   "  -t, --timeout T  stop after T (default 10s without --count or COMMAND;\n"
	   "                   0: until ^C, on a terminal)\n"
	   "  -r, --raw        the trace_pipe lines as they are\n"
	   "  -- COMMAND       run COMMAND and trace until it exits\n"
	   "Reads a private tracefs instance (instances/modegate-PID) with only\n"
	   "events/modegate enabled, removed on exit or ^C: another tracer is not\n"
	   "disturbed.  Needs root and the module loaded.\n");
