// SPDX-License-Identifier: GPL-2.0
/*
 * The modegate tool, run as a user would run it (/usr/bin/modegate in the
 * VM; MODEGATE_TOOL overrides): its JSON parses and says what the module
 * says, every command has --help, bad usage exits 2, a missing or
 * forbidden device exits 3 with a hint, and the tour's claims hold.
 */
#include <ctype.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include "modegate_test.h"
#include "kselftest_harness.h"

#define TOOL_TIMEOUT_MS 240000

struct run {
	int status;		/* exit code, or 128 + signal, or -1 */
	char out[1 << 20];
	char err[1 << 16];
};

static const char *tool_path(void)
{
	const char *p = getenv("MODEGATE_TOOL");

	return p && *p ? p : "/usr/bin/modegate";
}

/* Append what *@fd has to @buf (@n bytes so far); close it at its end. */
static void drain(int *fd, char *buf, size_t cap, size_t *n)
{
	ssize_t got = read(*fd, buf + *n, cap - 1 - *n);

	if (got > 0) {
		*n += got;
		return;
	}
	close(*fd);
	*fd = -1;
}

/* Run the tool with @argv (argv[0] is ignored), capturing both outputs. */
static int run_tool(struct run *r, char *const argv[], uid_t uid)
{
	int out[2], err[2];
	size_t no = 0, ne = 0;
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	if (pipe(out) || pipe(err))
		return -1;
	pid = mg_fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		if (uid && (setgid(uid) || setuid(uid)))
			_exit(126);
		setenv("NO_COLOR", "1", 1);
		execv(tool_path(), argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	for (;;) {
		struct pollfd p[2] = { { .fd = out[0], .events = POLLIN },
				       { .fd = err[0], .events = POLLIN } };

		if (p[0].fd < 0 && p[1].fd < 0)
			break;
		if (poll(p, 2, TOOL_TIMEOUT_MS) <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (p[0].revents)
			drain(&out[0], r->out, sizeof(r->out), &no);
		if (p[1].revents)
			drain(&err[0], r->err, sizeof(r->err), &ne);
		if (out[0] < 0 && err[0] < 0)
			break;
	}
	if (out[0] >= 0)
		close(out[0]);
	if (err[0] >= 0)
		close(err[0]);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

#define RUN(r, ...) ({ char *const _a[] = { "modegate", ##__VA_ARGS__, NULL }; run_tool(r, _a, 0); })

/*
 * A small JSON reader: json_skip() validates one value and returns the
 * position after it (NULL if malformed); json_get() follows a path like
 * "probes.0.outcome" and returns the position of that value.
 */
static const char *ws(const char *p)
{
	while (p && isspace((unsigned char)*p))
		p++;
	return p;
}

static const char *json_skip(const char *p);

static const char *json_string_end(const char *p)
{
	if (*p != '"')
		return NULL;
	for (p++; *p && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\' && !*++p)
			return NULL;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *json_skip(const char *p)
{
	p = ws(p);
	if (!p || !*p)
		return NULL;
	if (*p == '"')
		return json_string_end(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p = ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = json_string_end(ws(p));
				p = ws(p);
				if (!p || *p != ':')
					return NULL;
				p++;
			}
			p = ws(json_skip(p));
			if (!p)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p != ',')
				return NULL;
			p++;
		}
	}
	if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
		return p + 4;
	if (!strncmp(p, "false", 5))
		return p + 5;
	if (*p == '-' || isdigit((unsigned char)*p)) {
		char *end;

		strtod(p, &end);
		return end;
	}
	return NULL;
}

/* The whole text is one JSON value. */
static bool json_valid(const char *s)
{
	const char *end = ws(json_skip(s));

	return end && !*end;
}

static const char *json_member(const char *p, const char *key, size_t klen)
{
	p = ws(p);
	if (*p != '{')
		return NULL;
	p = ws(p + 1);
	while (*p == '"') {
		const char *k = p + 1, *kend = json_string_end(p);

		if (!kend)
			return NULL;
		p = ws(kend);
		if (*p != ':')
			return NULL;
		p = ws(p + 1);
		if ((size_t)(kend - 1 - k) == klen && !strncmp(k, key, klen))
			return p;
		p = ws(json_skip(p));
		if (!p || *p != ',')
			return NULL;
		p = ws(p + 1);
	}
	return NULL;
}

static const char *json_index(const char *p, long idx)
{
	p = ws(p);
	if (*p != '[')
		return NULL;
	p = ws(p + 1);
	while (idx-- > 0) {
		p = ws(json_skip(p));
		if (!p || *p != ',')
			return NULL;
		p = ws(p + 1);
	}
	return *p == ']' ? NULL : p;
}

static const char *json_get(const char *doc, const char *path)
{
	const char *p = doc;

	while (p && *path) {
		size_t n = strcspn(path, ".");

		if (isdigit((unsigned char)*path))
			p = json_index(p, strtol(path, NULL, 10));
		else
			p = json_member(p, path, n);
		path += n + (path[n] == '.');
	}
	return p;
}

static long long json_num(const char *doc, const char *path)
{
	const char *p = json_get(doc, path);

	return p && (isdigit((unsigned char)*p) || *p == '-') ? strtoll(p, NULL, 0) : -999999;
}

/* True if the value at @path is the string @want. */
static bool json_str_is(const char *doc, const char *path, const char *want)
{
	const char *p = json_get(doc, path);
	size_t n = strlen(want);

	return p && *p == '"' && !strncmp(p + 1, want, n) && p[n + 1] == '"';
}

static bool json_true(const char *doc, const char *path)
{
	const char *p = json_get(doc, path);

	return p && !strncmp(p, "true", 4);
}

FIXTURE(tool) {
	struct run r;
};

FIXTURE_SETUP(tool)
{
	ASSERT_EQ(0, mg_ensure_default());
	ASSERT_EQ(0, access(tool_path(), X_OK)) TH_LOG("no tool at %s", tool_path());
}

FIXTURE_TEARDOWN(tool)
{
	mg_ensure_default();
}

TEST_F(tool, json_reader_rejects_broken_json)
{
	/* The reader itself, so that the JSON checks below mean something. */
	EXPECT_TRUE(json_valid("{\"a\": [1, -2.5e3, \"x\\\"y\", true, null], \"b\": {}}"));
	EXPECT_FALSE(json_valid("{\"a\": 1,}"));
	EXPECT_FALSE(json_valid("{\"a\" 1}"));
	EXPECT_FALSE(json_valid("{\"a\": [1, 2}"));
	EXPECT_FALSE(json_valid("{\"a\": 1} x"));
	EXPECT_EQ(2, json_num("{\"a\": [1, {\"b\": 2}]}", "a.1.b"));
}

TEST_F(tool, info_json_reports_the_two_modes)
{
	struct modegate_info info;
	int fd;

	ASSERT_EQ(0, RUN(&self->r, "--json", "info"));
	ASSERT_EQ(0, self->r.status) TH_LOG("stderr: %s", self->r.err);
	ASSERT_TRUE(json_valid(self->r.out)) TH_LOG("not JSON: %s", self->r.out);
	EXPECT_EQ(MODEGATE_ABI_VERSION, json_num(self->r.out, "abi_version"));
	EXPECT_EQ(3, json_num(self->r.out, "caller_cpl"));
	EXPECT_EQ(0, json_num(self->r.out, "handler_cpl"));
	EXPECT_TRUE(json_true(self->r.out, "mode.user_entry"));

	/* The same numbers the ioctl gives this test. */
	fd = open(MG_DEV, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, MODEGATE_IOC_INFO, &info));
	close(fd);
	EXPECT_EQ((long long)info.page_size, json_num(self->r.out, "page_size"));
	EXPECT_EQ((long long)info.store_capacity, json_num(self->r.out, "store_capacity"));
}

TEST_F(tool, info_text_and_json_flag_after_command)
{
	ASSERT_EQ(0, RUN(&self->r, "info"));
	ASSERT_EQ(0, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.out, "caller_cpl"));
	EXPECT_EQ(NULL, strchr(self->r.out, '\033')) TH_LOG("colour although NO_COLOR");
	ASSERT_EQ(0, RUN(&self->r, "info", "--json"));
	ASSERT_EQ(0, self->r.status);
	EXPECT_TRUE(json_valid(self->r.out));
}

TEST_F(tool, probe_null_reports_fault_efault)
{
	ASSERT_EQ(0, RUN(&self->r, "--json", "probe", "null"));
	ASSERT_EQ(0, self->r.status) TH_LOG("stderr: %s", self->r.err);
	ASSERT_TRUE(json_valid(self->r.out)) TH_LOG("not JSON: %s", self->r.out);
	EXPECT_TRUE(json_str_is(self->r.out, "probes.0.target", "null"));
	EXPECT_TRUE(json_str_is(self->r.out, "probes.0.outcome", "FAULT")) TH_LOG("%s", self->r.out);
	EXPECT_TRUE(json_str_is(self->r.out, "probes.0.error", "EFAULT"));
	EXPECT_EQ(0, json_num(self->r.out, "probes.0.copied"));
}

TEST_F(tool, probe_every_preset_as_expected)
{
	ASSERT_EQ(0, RUN(&self->r, "--json", "probe", "all"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s%s", self->r.out, self->r.err);
	ASSERT_TRUE(json_valid(self->r.out));
	EXPECT_TRUE(json_str_is(self->r.out, "probes.2.outcome", "NOT_USER"));
	EXPECT_TRUE(json_str_is(self->r.out, "probes.4.outcome", "READONLY"));
	EXPECT_TRUE(json_str_is(self->r.out, "probes.5.outcome", "PARTIAL"));
}

TEST_F(tool, help_for_every_command_exits_0)
{
	static const char *const cmds[] = { "load", "unload", "info", "probe", "vaspace",
					    "async", "trace", "stats", "tour", "bench" };
	unsigned int i;

	ASSERT_EQ(0, RUN(&self->r, "--help"));
	EXPECT_EQ(0, self->r.status);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *const argv[] = { "modegate", (char *)cmds[i], "--help", NULL };
		char usage[64];

		ASSERT_EQ(0, run_tool(&self->r, argv, 0));
		EXPECT_EQ(0, self->r.status) TH_LOG("%s --help", cmds[i]);
		snprintf(usage, sizeof(usage), "usage: modegate [--json] %s", cmds[i]);
		EXPECT_NE(NULL, strstr(self->r.out, usage)) TH_LOG("%s --help: %s", cmds[i],
								   self->r.out);
		EXPECT_NE(NULL, strstr(self->r.out, "exit codes"));
	}
}

/* Lines of @s: a complaint about usage is one line, not the whole usage. */
static int line_count(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST_F(tool, unknown_command_or_option_is_one_line_of_hint)
{
	ASSERT_EQ(0, RUN(&self->r, "no-such-command"));
	EXPECT_EQ(2, self->r.status);
	EXPECT_EQ(1, line_count(self->r.err)) TH_LOG("stderr: %s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err, "no-such-command"));
	EXPECT_NE(NULL, strstr(self->r.err, "modegate --help"));
	ASSERT_EQ(0, RUN(&self->r, "--no-such-option", "info"));
	EXPECT_EQ(2, self->r.status);
	EXPECT_EQ(1, line_count(self->r.err)) TH_LOG("stderr: %s", self->r.err);
	EXPECT_NE(NULL, strstr(self->r.err, "--no-such-option"));
	EXPECT_NE(NULL, strstr(self->r.err, "modegate --help"));
}

TEST_F(tool, bad_usage_exits_2)
{
	ASSERT_EQ(0, RUN(&self->r, "no-such-command"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, RUN(&self->r, "--no-such-option", "info"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, RUN(&self->r, "info", "--bogus"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, RUN(&self->r, "probe"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, RUN(&self->r, "probe", "not-an-address"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, RUN(&self->r, "async", "--strategy", "bogus"));
	EXPECT_EQ(2, self->r.status);
	ASSERT_EQ(0, RUN(&self->r, "tour", "--step", "99"));
	EXPECT_EQ(2, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "--help"));
	ASSERT_EQ(0, RUN(&self->r));
	EXPECT_EQ(2, self->r.status);
}

TEST_F(tool, load_while_loaded_fails_clearly)
{
	ASSERT_EQ(0, RUN(&self->r, "load"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "already loaded")) TH_LOG("stderr: %s", self->r.err);
	EXPECT_TRUE(mg_loaded());
}

TEST_F(tool, missing_device_exits_3_with_hint)
{
	ASSERT_EQ(0, mg_unload());
	ASSERT_EQ(0, RUN(&self->r, "--json", "info"));
	EXPECT_EQ(3, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "modegate load")) TH_LOG("stderr: %s", self->r.err);
	EXPECT_TRUE(json_valid(self->r.out)) TH_LOG("not JSON: %s", self->r.out);
	EXPECT_TRUE(json_str_is(self->r.out, "error.errno", "ENOENT"));
	ASSERT_EQ(0, RUN(&self->r, "unload"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "not loaded"));

	ASSERT_EQ(0, RUN(&self->r, "load", "store_size=65536"));
	EXPECT_EQ(0, self->r.status) TH_LOG("stderr: %s", self->r.err);
	ASSERT_TRUE(mg_loaded());
	ASSERT_EQ(0, RUN(&self->r, "--json", "info"));
	EXPECT_EQ(65536, json_num(self->r.out, "store_capacity"));
	ASSERT_EQ(0, RUN(&self->r, "unload"));
	EXPECT_EQ(0, self->r.status) TH_LOG("stderr: %s", self->r.err);
	EXPECT_FALSE(mg_loaded());
}

TEST_F(tool, unprivileged_user_exits_3_naming_node_mode)
{
	char *const argv[] = { "modegate", "info", NULL };

	ASSERT_EQ(0, run_tool(&self->r, argv, 65534));
	EXPECT_EQ(3, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "EACCES"));
	EXPECT_NE(NULL, strstr(self->r.err, "node_mode")) TH_LOG("stderr: %s", self->r.err);
}

TEST_F(tool, unload_while_open_is_refused_with_hint)
{
	int fd = open(MG_DEV, O_RDONLY);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, RUN(&self->r, "unload"));
	EXPECT_EQ(1, self->r.status);
	EXPECT_NE(NULL, strstr(self->r.err, "in use")) TH_LOG("stderr: %s", self->r.err);
	close(fd);
	EXPECT_TRUE(mg_loaded());
}

TEST_F(tool, stats_counts_the_tools_ioctls)
{
	struct modegate_stats before;
	int fd = open(MG_DEV, O_RDONLY);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, mg_stats(fd, &before));
	close(fd);
	ASSERT_EQ(0, RUN(&self->r, "--json", "stats"));
	ASSERT_EQ(0, self->r.status);
	ASSERT_TRUE(json_valid(self->r.out));
	/* Our STATS, then the tool's: nothing else in between. */
	EXPECT_EQ((long long)before.ioctls + 1, json_num(self->r.out, "ioctls"));
	ASSERT_EQ(0, RUN(&self->r, "--json", "stats", "--debugfs"));
	ASSERT_EQ(0, self->r.status);
	EXPECT_TRUE(json_str_is(self->r.out, "source", "debugfs"));
}

TEST_F(tool, vaspace_fork_two_pages_after_write)
{
	ASSERT_EQ(0, RUN(&self->r, "--json", "vaspace", "--fork"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s%s", self->r.out, self->r.err);
	ASSERT_TRUE(json_valid(self->r.out));
	EXPECT_TRUE(json_str_is(self->r.out, "fork.2.parent", "\\\"parent\\\""));
	EXPECT_TRUE(json_str_is(self->r.out, "fork.2.child", "\\\"child\\\""));
}

TEST_F(tool, async_delivers_and_verifies)
{
	ASSERT_EQ(0, RUN(&self->r, "--json", "async", "--strategy", "all", "--latency", "5ms"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s%s", self->r.out, self->r.err);
	ASSERT_TRUE(json_valid(self->r.out));
	EXPECT_EQ(5, json_num(self->r.out, "queued"));
	EXPECT_EQ(5, json_num(self->r.out, "verified"));
	EXPECT_EQ(4, json_num(self->r.out, "delivered"));
}

TEST_F(tool, trace_shows_events_and_restores_enable)
{
	const char *en = "/sys/kernel/tracing/events/modegate/enable";
	char before[8] = "", after[8] = "";
	int fd;

	fd = open(en, O_RDONLY);
	if (fd < 0)
		SKIP(return, "no tracefs events for modegate");
	ASSERT_LT(0, read(fd, before, sizeof(before) - 1));
	close(fd);
	ASSERT_EQ(0, RUN(&self->r, "--json", "trace", "--count", "3", "--timeout", "60s", "--",
			 (char *)tool_path(), "info"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s%s", self->r.out, self->r.err);
	ASSERT_TRUE(json_valid(self->r.out)) TH_LOG("%s", self->r.out);
	EXPECT_EQ(3, json_num(self->r.out, "events_seen"));
	EXPECT_TRUE(json_str_is(self->r.out, "events.0.event", "modegate_open"));
	EXPECT_TRUE(json_str_is(self->r.out, "events.1.event", "modegate_ioctl"));
	fd = open(en, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, after, sizeof(after) - 1));
	close(fd);
	EXPECT_STREQ(before, after);
}

static int read_enable(const char *dir, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events/modegate/enable", dir);
	return mg_read_text(path, buf, len) < 0 ? -1 : 0;
}

/* The tool traces in its own instance: the global setting never changes. */
TEST_F(tool, trace_uses_a_private_instance_removed_on_sigint)
{
	char before[8], during[8], after[8], mine[8], inst[128], out[4096] = "";
	size_t got = 0;
	int p[2], st;
	pid_t pid;

	if (read_enable("/sys/kernel/tracing", before, sizeof(before)))
		SKIP(return, "no tracefs events for modegate");
	ASSERT_EQ(0, pipe(p));
	pid = mg_fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setenv("NO_COLOR", "1", 1);
		execl(tool_path(), "modegate", "trace", "--timeout", "120s", NULL);
		_exit(127);
	}
	close(p[1]);
	/* The table header is printed once the events are enabled. */
	while (!strstr(out, "details")) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		ssize_t n;

		ASSERT_EQ(1, poll(&pf, 1, 60000)) TH_LOG("no header: %s", out);
		n = read(p[0], out + got, sizeof(out) - 1 - got);
		ASSERT_LT(0, n);
		got += n;
		out[got] = 0;
	}
	snprintf(inst, sizeof(inst), "/sys/kernel/tracing/instances/modegate-%d", pid);
	ASSERT_EQ(0, read_enable(inst, mine, sizeof(mine))) TH_LOG("no instance %s", inst);
	EXPECT_STREQ("1\n", mine);
	ASSERT_EQ(0, read_enable("/sys/kernel/tracing", during, sizeof(during)));
	EXPECT_STREQ(before, during);
	ASSERT_EQ(0, kill(pid, SIGINT));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	close(p[0]);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ASSERT_EQ(0, read_enable("/sys/kernel/tracing", after, sizeof(after)));
	EXPECT_STREQ(before, after);
	EXPECT_NE(0, access(inst, F_OK)) TH_LOG("%s left behind", inst);
}

/* The picture: valid enough to name every lane and every step of a journey. */
TEST_F(tool, async_svg_draws_each_step_of_the_journey)
{
	static const char *const want[] = {
		"<svg ", "CPU 0", "submit by ", "interrupt on ", "delivery by ", "reap by ",
		"#1 adopt_mm", "#5 naive", "</svg>", NULL,
	};
	const char *path = "/tmp/tool_test_async.svg";
	const char *const *w;
	char svg[1 << 16];
	ssize_t n;
	int fd;

	if (access("/sys/kernel/tracing/instances", F_OK))
		SKIP(return, "no tracefs instances");
	unlink(path);
	ASSERT_EQ(0, RUN(&self->r, "--json", "async", "--strategy", "all", "--latency", "5ms",
			 "--svg", (char *)path));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s%s", self->r.out, self->r.err);
	EXPECT_TRUE(json_str_is(self->r.out, "svg", path));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, svg, sizeof(svg) - 1);
	close(fd);
	ASSERT_LT(0, n);
	svg[n] = 0;
	for (w = want; *w && strstr(svg, *w); w++)
		;
	EXPECT_EQ(NULL, *w) TH_LOG("the picture lacks '%s'", *w ? *w : "");
	unlink(path);
}

TEST_F(tool, bench_reports_ratios)
{
	ASSERT_EQ(0, RUN(&self->r, "--json", "bench", "--time", "20ms", "--sizes", "4K"));
	ASSERT_EQ(0, self->r.status) TH_LOG("%s%s", self->r.out, self->r.err);
	ASSERT_TRUE(json_valid(self->r.out));
	EXPECT_NE(NULL, json_get(self->r.out, "throughput.0.read_vs_devzero"));
	EXPECT_NE(NULL, json_get(self->r.out, "round_trip.ioctl_vs_getppid"));
}

TEST_F(tool, tour_every_claim_holds)
{
	ASSERT_EQ(0, RUN(&self->r, "--json", "tour"));
	ASSERT_TRUE(json_valid(self->r.out)) TH_LOG("not JSON: %.2000s", self->r.out);
	ASSERT_EQ(7, json_num(self->r.out, "steps_run"));
	/* Every part of the module has landed: no step may be unavailable. */
	EXPECT_EQ(0, self->r.status) TH_LOG("a claim failed:\n%s", self->r.out);
	EXPECT_TRUE(json_true(self->r.out, "passed"));
	EXPECT_EQ(0, json_num(self->r.out, "claims_failed"));
}

TEST_F(tool, tour_single_step_text)
{
	ASSERT_EQ(0, RUN(&self->r, "tour", "--step", "1"));
	EXPECT_EQ(0, self->r.status) TH_LOG("%s", self->r.out);
	EXPECT_NE(NULL, strstr(self->r.out, "Step 1/7"));
	EXPECT_EQ(NULL, strstr(self->r.out, "Step 2/7"));
	EXPECT_NE(NULL, strstr(self->r.out, "[ ok ] this tool runs at privilege level 3"));
	EXPECT_EQ(NULL, strstr(self->r.out, "[FAIL]"));
}

TEST_HARNESS_MAIN
