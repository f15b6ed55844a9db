// SPDX-License-Identifier: GPL-2.0
/*
 * modegate async: the asynchronous read of modegate(7).  Submit reads that
 * return at once; the simulated device interrupt fires later on whatever
 * task is running on its CPU; the data reaches this process's buffer
 * through its captured address space (or, with NAIVE, the module reports
 * whose address space a careless driver would have written into).
 *
 * --spinner runs a busy process pinned to the interrupt's CPU, so that the
 * interrupted task is visibly another process; --bystander also registers
 * it as the bystander of the wrong-process demo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mgtool.h"

#define MG_PIPE_TIMEOUT_MS	10000
#define MG_PAYLOAD		"modegate async payload: delivered into the originating process. "

struct mg_spinner_report {
	int err;			/* 0, or -errno of the spinner's setup */
	bool changed;			/* its copy of the buffers was written */
	char saw[48];
	struct mg_syscalls sys;
};

static void mg_fill_payload(char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = MG_PAYLOAD[i % (sizeof(MG_PAYLOAD) - 1)];
}

/* Write @len bytes of the payload at offset 0 of the store; 0 or -1 (errno). */
static int mg_store_payload(int fd, size_t len)
{
	char *payload = malloc(len);
	ssize_t n = -1;

	if (payload) {
		mg_fill_payload(payload, len);
		n = mg_sys_pwrite(fd, payload, len, 0);
		free(payload);
	} else {
		errno = ENOMEM;
	}
	if (n >= 0 && n != (ssize_t)len)
		errno = EIO;
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * The spinner: a separate process busy in user mode on the interrupt's CPU
 * from the parent's go (after its submit, so that the submit is not slowed
 * down) until *stop.  It writes its own copy of the buffers first, so that
 * a write into its address space at their address is visible.
 */
static void mg_spinner(int devfd, bool bystander, int cpu, char *bufs, size_t span,
		       volatile int *stop, int go_fd, int report_fd)
{
	struct mg_spinner_report rep;
	char go;
	size_t i;

	memset(&mg_sys, 0, sizeof(mg_sys));
	memset(&rep, 0, sizeof(rep));
	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the tool */
	prctl(PR_SET_NAME, bystander ? "mg-bystander" : "mg-spinner");
	rep.err = mg_pin_cpu(cpu);
	memset(bufs, 'B', span);
	if (!rep.err && bystander) {
		struct modegate_bystander b = { .flags = MODEGATE_BYSTANDER_REGISTER };

		rep.err = mg_ioc(devfd, MODEGATE_IOC_BYSTANDER, &b);
	}
	/* First the setup's result (0: spinning), at the end the report. */
	if (mg_write_full(report_fd, &rep.err, sizeof(rep.err)))
		_exit(1);
	if (rep.err) {
		rep.sys = mg_sys;
		mg_write_full(report_fd, &rep, sizeof(rep));
		_exit(1);
	}
	mg_read_full(go_fd, &go, 1, MG_PIPE_TIMEOUT_MS);
	while (!*stop)
		__asm__ __volatile__("pause");
	for (i = 0; i < span; i++)
		if (bufs[i] != 'B') {
			rep.changed = true;
			snprintf(rep.saw, sizeof(rep.saw), "%.40s", bufs + i);
			break;
		}
	rep.sys = mg_sys;
	mg_write_full(report_fd, &rep, sizeof(rep));
	_exit(0);
}

static int mg_async_collect(int fd, struct mg_async_run *r, uint64_t timeout_ns)
{
	uint64_t deadline = mg_now_ns() + timeout_ns;
	int ret;

	while (r->nr_comps < r->queued) {
		struct modegate_async_wait w = { .min_complete = 1 };
		struct modegate_async_reap rp = {
			.comps = (uintptr_t)(r->comps + r->nr_comps),
			.nr = r->queued - r->nr_comps,
			.comp_size = sizeof(struct modegate_async_completion),
		};
		uint64_t now = mg_now_ns();

		if (now >= deadline)
			return -ETIMEDOUT;
		w.timeout_ns = deadline - now;
		ret = mg_ioc(fd, MODEGATE_IOC_ASYNC_WAIT, &w);
		if (ret == -EINTR)
			continue;
		if (ret)
			return ret;
		ret = mg_ioc(fd, MODEGATE_IOC_ASYNC_REAP, &rp);
		if (ret < 0)
			return ret;
		r->nr_comps += rp.reaped;
	}
	return 0;
}

static void mg_async_verify(const struct mg_async_opts *o, struct mg_async_run *r,
			    const char *bufs, size_t stride)
{
	char *want = malloc(o->len);
	unsigned int i;

	if (!want)
		return;
	mg_fill_payload(want, o->len);
	for (i = 0; i < r->nr_comps; i++) {
		const struct modegate_async_completion *c = &r->comps[i];
		const char *b = bufs + (c->user_data - 1) * stride;

		if (c->user_data < 1 || c->user_data > r->queued)
			continue;
		if (c->result > 0 && c->delivered_by != MODEGATE_DELIVER_NONE &&
		    c->delivered_by != MODEGATE_DELIVER_BYSTANDER) {
			r->delivered++;
			if (!memcmp(b, want, c->result))
				r->verified++;
		} else if (b[0] == '.' && !memcmp(b, b + 1, o->len - 1)) {
			r->verified++;	/* not delivered, and not written either */
		}
	}
	free(want);
}

/* The spinner's process and the pipes and shared flag that steer it. */
struct mg_spinner {
	pid_t pid;
	int report_fd;			/* its setup result, then its report */
	int go_fd;			/* "g": the submit is done, spin */
	volatile int *stop;		/* shared page: set to end the spin */
};

/*
 * Fork the spinner (pinned to r->spinner_cpu, this process to another CPU)
 * and wait for its setup; 0, or r->err and r->failed set.
 */
static int mg_spinner_start(int fd, const struct mg_async_opts *o, struct mg_async_run *r,
			    char *bufs, size_t span, struct mg_spinner *sp)
{
	int pfd[2], gofd[2], setup, ret;
	long ncpus = mg_ncpus();

	r->spinner_cpu = o->cpu >= 0 ? o->cpu : ncpus - 1;
	if (ncpus > 1) {
		r->self_cpu = r->spinner_cpu ? 0 : 1;
		mg_pin_cpu(r->self_cpu);
	}
	sp->stop = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	if (sp->stop == MAP_FAILED || pipe2(pfd, O_CLOEXEC) || pipe2(gofd, O_CLOEXEC)) {
		r->err = -errno;
		r->failed = "pipe";
		return r->err;
	}
	fflush(stdout);
	sp->pid = fork();
	if (!sp->pid) {
		close(pfd[0]);
		close(gofd[1]);
		mg_spinner(fd, o->bystander, r->spinner_cpu, bufs, span, sp->stop, gofd[0], pfd[1]);
	}
	close(pfd[1]);
	close(gofd[0]);
	sp->report_fd = pfd[0];
	sp->go_fd = gofd[1];
	if (sp->pid < 0) {
		r->err = -errno;
		r->failed = "fork";
		return r->err;
	}
	r->spinner = sp->pid;
	ret = mg_read_full(sp->report_fd, &setup, sizeof(setup), MG_PIPE_TIMEOUT_MS);
	if (ret || setup) {
		r->err = ret ? ret : setup;
		r->failed = o->bystander ? "registering the bystander" : "starting the spinner";
	}
	return r->err;
}

/* Stop the spinner, take its report into @r, and free what start set up. */
static void mg_spinner_stop(struct mg_spinner *sp, struct mg_async_run *r)
{
	struct mg_spinner_report rep;

	if (sp->pid > 0) {
		*sp->stop = 1;
		close(sp->go_fd);	/* ends its wait for go, if it still waits */
		sp->go_fd = -1;
		if (!mg_read_full(sp->report_fd, &rep, sizeof(rep), MG_PIPE_TIMEOUT_MS)) {
			r->bystander_changed = rep.changed;
			memcpy(r->bystander_saw, rep.saw, sizeof(r->bystander_saw));
			r->child_sys = rep.sys;
		}
		mg_wait_child(sp->pid, MG_PIPE_TIMEOUT_MS);
	}
	if (sp->report_fd >= 0)
		close(sp->report_fd);
	if (sp->go_fd >= 0)
		close(sp->go_fd);
	if (sp->stop && sp->stop != MAP_FAILED)
		munmap((void *)sp->stop, sizeof(int));
}

/* The requests: one buffer each, @stride apart; strategies in turn for "all". */
static void mg_async_fill(const struct mg_async_opts *o, struct mg_async_run *r, char *bufs,
			  size_t stride)
{
	unsigned int i;

	for (i = 0; i < o->nr; i++) {
		struct modegate_async_req *q = &r->reqs[i];

		q->buf = (uintptr_t)(bufs + i * stride);
		q->len = o->len;
		q->offset = 0;
		q->user_data = i + 1;
		q->latency_ns = o->latency_ns;
		q->strategy = o->strategy ? (unsigned int)o->strategy : i % MODEGATE_STRAT_MAX + 1;
		q->cpu = o->spinner ? r->spinner_cpu : o->cpu;
		q->flags = q->strategy == MODEGATE_STRAT_NAIVE ? o->req_flags : 0;
	}
}

/* Submit r->reqs, let the spinner go, and collect every completion. */
static void mg_async_submit(int fd, const struct mg_async_opts *o, struct mg_async_run *r,
			    const struct mg_spinner *sp)
{
	struct modegate_async_submit s = {
		.reqs = (uintptr_t)r->reqs, .nr = o->nr, .req_size = sizeof(*r->reqs),
	};
	int ret;

	r->submit_ns = mg_now_ns();
	ret = mg_ioc(fd, MODEGATE_IOC_ASYNC_SUBMIT, &s);
	r->submit_end_ns = mg_now_ns();
	r->submit_ns = r->submit_end_ns - r->submit_ns;
	if (sp->pid > 0)
		mg_write_full(sp->go_fd, "g", 1);
	if (ret < 0) {
		r->err = ret;
		r->failed = "MODEGATE_IOC_ASYNC_SUBMIT";
		return;
	}
	r->queued = s.queued;
	ret = mg_async_collect(fd, r, o->latency_ns * 2 + 10000000000ULL);
	r->wait_ns = mg_now_ns() - r->submit_end_ns;
	if (ret) {
		struct modegate_async_cancel cancel = { .flags = MODEGATE_CANCEL_ALL };

		r->err = ret;
		r->failed = "collecting the completions";
		mg_ioc(fd, MODEGATE_IOC_ASYNC_CANCEL, &cancel);
	}
}

void mg_async_do(int fd, const struct mg_async_opts *o, struct mg_async_run *r)
{
	long psize = sysconf(_SC_PAGESIZE);
	size_t stride = (o->len + psize - 1) / psize * psize;
	size_t span = stride * o->nr;
	struct mg_spinner sp = { .report_fd = -1, .go_fd = -1 };
	cpu_set_t saved;
	char *bufs;

	memset(r, 0, sizeof(*r));
	r->origin = getpid();
	r->spinner_cpu = r->self_cpu = -1;
	sched_getaffinity(0, sizeof(saved), &saved);
	r->reqs = calloc(o->nr, sizeof(*r->reqs));
	r->comps = calloc(o->nr, sizeof(*r->comps));
	bufs = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!r->reqs || !r->comps || bufs == MAP_FAILED) {
		r->err = -ENOMEM;
		r->failed = "memory";
		return;
	}
	memset(bufs, '.', span);
	/* What the device will "read": the payload at offset 0 of the store. */
	if (mg_store_payload(fd, o->len)) {
		r->err = -errno;
		r->failed = "writing the payload into the store";
	} else if (!o->spinner || !mg_spinner_start(fd, o, r, bufs, span, &sp)) {
		mg_async_fill(o, r, bufs, stride);
		mg_async_submit(fd, o, r, &sp);
		mg_async_verify(o, r, bufs, stride);
	}
	mg_spinner_stop(&sp, r);
	sched_setaffinity(0, sizeof(saved), &saved);
	munmap(bufs, span);
}

/* mg_async_do(); with @tr, the run's own trace events into @j. */
void mg_async_traced(int fd, const struct mg_async_opts *o, struct mg_async_run *r,
		     struct mg_trace *tr, struct mg_journey *j)
{
	if (tr)
		mg_trace_clear(tr);
	mg_async_do(fd, o, r);
	memset(j, 0, sizeof(*j));
	if (tr)
		mg_trace_snapshot(tr, mg_journey_line, j);
}

void mg_async_free(struct mg_async_run *r)
{
	free(r->reqs);
	free(r->comps);
	r->reqs = NULL;
	r->comps = NULL;
}

void mg_async_table(const struct mg_async_run *r)
{
	static const char *const cols[] = {
		"user_data", "strategy", "irq_cpu", "interrupted", "mm", "delivered_by",
		"result", "irq_after_ns", "deliver_after_ns",
	};
	unsigned int i;

	out_table("completions", NULL, cols, MG_ARRAY_SIZE(cols));
	for (i = 0; i < r->nr_comps; i++) {
		const struct modegate_async_completion *c = &r->comps[i];

		out_row();
		out_u64(NULL, c->user_data);
		out_str(NULL, "%s", mg_strategy_name(c->strategy));
		out_u64(NULL, c->irq_cpu);
		out_str(NULL, "%d/%.16s%s", c->irq_pid, c->irq_comm,
			c->irq_tgid == c->origin_tgid ? " (origin)" : "");
		out_str(NULL, "%s", mg_async_mm_name(c));
		if (c->deliver_pid)
			out_str(NULL, "%s pid %d", mg_delivered_name(c->delivered_by), c->deliver_pid);
		else
			out_str(NULL, "%s", mg_delivered_name(c->delivered_by));
		out_result(NULL, c->result);
		if (c->t_irq_ns)
			out_ns(NULL, c->t_irq_ns - c->t_submit_ns);
		else
			out_null(NULL);
		if (c->t_deliver_ns && c->t_irq_ns)
			out_ns(NULL, c->t_deliver_ns - c->t_irq_ns);
		else
			out_null(NULL);
		out_close();
	}
	out_close();
}

/* What a NAIVE completion says a raw write at the user address would have hit. */
static void mg_naive_explain(const struct mg_async_run *r)
{
	unsigned int i;

	for (i = 0; i < r->nr_comps; i++) {
		const struct modegate_async_completion *c = &r->comps[i];

		if (c->strategy != MODEGATE_STRAT_NAIVE)
			continue;
		if (c->ctx_flags & MODEGATE_CTX_WRONG_PROCESS)
			out_say("request %llu (NAIVE, demo): the data was written into pid %d (%.16s): the wrong process",
				(unsigned long long)c->user_data, c->irq_tgid, c->irq_comm);
		else if (c->ctx_flags & MODEGATE_CTX_IRQ_OTHER_USER)
			out_say("request %llu (NAIVE): the interrupt hit another user's task (not named to you); a raw write would have gone into it, not into %d",
				(unsigned long long)c->user_data, c->origin_tgid);
		else if (c->ctx_flags & (MODEGATE_CTX_IRQ_IDLE | MODEGATE_CTX_IRQ_KTHREAD))
			out_say("request %llu (NAIVE): a raw write at the buffer address would have run with no user address space (%.16s): an oops, or a write into whatever mm was lazily loaded",
				(unsigned long long)c->user_data, c->irq_comm);
		else if (c->ctx_flags & MODEGATE_CTX_IRQ_MM_MATCH)
			out_say("request %llu (NAIVE): by luck the interrupt hit the originating process; a raw write would have worked this time",
				(unsigned long long)c->user_data);
		else
			out_say("request %llu (NAIVE): a raw write would have gone into pid %d (%.16s), not into %d",
				(unsigned long long)c->user_data, c->irq_tgid, c->irq_comm, c->origin_tgid);
	}
}

/* The command line into @o (and @svg); 0, or the usage error's exit code. */
static int async_parse(int argc, char **argv, struct mg_async_opts *o, const char **svg)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "strategy", required_argument, NULL, 's' },
		{ "latency", required_argument, NULL, 'l' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "len", required_argument, NULL, 'L' },
		{ "spinner", no_argument, NULL, 'S' },
		{ "bystander", no_argument, NULL, 'B' },
		{ "svg", required_argument, NULL, 'G' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mg_cmd *cmd = &mg_cmd_async;
	bool nr_given = false;
	uint64_t v;
	int c;

	while ((c = mg_getopt(argc, argv, cmd, "n:s:l:c:L:SB", opts)) != -1) {
		if (c == 'n' && (mg_parse_u64(optarg, &v) || !v || v > 4096))
			return mg_usage_error(cmd, "--count is 1 to 4096");
		if (c == 'n')
			o->nr = v;
		nr_given |= c == 'n';
		if (c == 's')
			o->strategy = strcmp(optarg, "all") ? mg_strategy_parse(optarg) : 0;
		if (c == 's' && o->strategy < 0)
			return mg_usage_error(cmd, "unknown strategy '%s'", optarg);
		if (c == 'l' && mg_parse_duration_ns(optarg, &o->latency_ns))
			return mg_usage_error(cmd, "bad --latency '%s'", optarg);
		if (c == 'c' && strcmp(optarg, "any") &&
		    (mg_parse_u64(optarg, &v) || v >= (uint64_t)mg_ncpus()))
			return mg_usage_error(cmd, "--cpu is 'any' or 0 to %ld", mg_ncpus() - 1);
		if (c == 'c')
			o->cpu = strcmp(optarg, "any") ? (int)v : MODEGATE_CPU_ANY;
		if (c == 'L' && (mg_parse_u64(optarg, &o->len) || !o->len))
			return mg_usage_error(cmd, "bad --len '%s'", optarg);
		o->spinner |= c == 'S' || c == 'B';
		if (c == 'B') {
			o->bystander = true;
			o->strategy = MODEGATE_STRAT_NAIVE;
			o->req_flags = MODEGATE_REQ_DEMO_WRONG_PROCESS;
		}
		if (c == 'G')
			*svg = optarg;
	}
	if (optind < argc)
		return mg_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (!o->strategy && !nr_given)
		o->nr = MODEGATE_STRAT_MAX;
	return 0;
}

/* Who took part in the run, and how long the submit and the device took. */
void mg_async_header(const struct mg_async_opts *o, const struct mg_async_run *r)
{
	char t1[32], t2[32];

	out_u64("origin_pid", r->origin);
	if (r->spinner > 0) {
		out_u64(o->bystander ? "bystander_pid" : "spinner_pid", r->spinner);
		out_u64("spinner_cpu", r->spinner_cpu);
		out_comment("a busy process pinned where the interrupt fires");
	}
	out_u64("requests", o->nr);
	out_u64("queued", r->queued);
	out_u64("latency_ns", o->latency_ns);
	out_u64("submit_ns", r->submit_ns);
	mg_fmt_ns(t1, sizeof(t1), r->submit_ns);
	mg_fmt_ns(t2, sizeof(t2), o->latency_ns);
	out_comment("the submit returned after %s; the device takes %s", t1, t2);
}

/* What the run did; MG_EXIT_OK or MG_EXIT_FAIL. */
static int async_report(const struct mg_async_opts *o, const struct mg_async_run *r)
{
	int rc = MG_EXIT_OK;
	unsigned int i;

	mg_async_header(o, r);
	for (i = 0; i < r->queued && i < o->nr; i++)
		if (r->reqs[i].error) {
			out_error(-r->reqs[i].error, "request refused", "request %u", i + 1);
			rc = MG_EXIT_FAIL;
		}
	if (r->err) {
		if (mg_unsupported(r->err))
			mg_ioc_fail(MODEGATE_IOC_ASYNC_SUBMIT, r->err);
		else
			out_error(-r->err, r->failed, NULL);
		rc = MG_EXIT_FAIL;
	}
	if (r->nr_comps) {
		mg_async_table(r);
		out_u64("delivered", r->delivered);
		out_u64("verified", r->verified);
		out_comment("buffers holding exactly what they should (the payload, or untouched)");
		if (r->verified != (int)r->nr_comps)
			rc = MG_EXIT_FAIL;
		mg_naive_explain(r);
	}
	if (o->bystander && r->spinner > 0) {
		out_bool("bystander_written", r->bystander_changed);
		if (r->bystander_changed)
			out_str("bystander_saw", "%s", r->bystander_saw);
	}
	return rc;
}

/* The run drawn into @path from its trace events; MG_EXIT_OK or _FAIL. */
static int async_svg(const char *path, const struct mg_async_opts *o,
		     const struct mg_async_run *r, const struct mg_journey *j)
{
	const struct mg_svg_panel panel = {
		o->bystander ? "NAIVE requests, the spinner registered as bystander" :
		o->strategy ? "Asynchronous reads" : "Asynchronous reads, one per strategy",
		r, j, o->bystander,
	};
	int ret = mg_svg_write(path, &panel, 1);

	if (ret) {
		out_error(-ret, "writing the picture", "%s", path);
		return MG_EXIT_FAIL;
	}
	out_str("svg", "%s", path);
	out_comment("the requests' journeys, from %u trace events", j->nev);
	return MG_EXIT_OK;
}

static int async_run(int argc, char **argv)
{
	struct mg_async_opts o = {
		.nr = 4, .strategy = MODEGATE_STRAT_ADOPT_MM, .latency_ns = 10000000,
		.cpu = MODEGATE_CPU_ANY, .len = 64,
	};
	const char *svg = NULL;
	struct mg_async_run r;
	struct mg_journey j;
	struct mg_trace tr;
	int fd, rc, ret;

	rc = async_parse(argc, argv, &o, &svg);
	if (rc)
		return rc;
	out_begin();
	fd = mg_dev_open(O_RDWR);
	if (fd < 0)
		return out_end(MG_EXIT_NODEV);
	ret = svg ? mg_trace_start(&tr, false) : 0;
	if (ret) {
		mg_sys_close(fd);
		return out_end(mg_trace_fail(&tr, ret));
	}
	mg_async_traced(fd, &o, &r, svg ? &tr : NULL, &j);
	if (svg)
		mg_trace_stop(&tr);
	rc = async_report(&o, &r);
	if (svg && async_svg(svg, &o, &r, &j))
		rc = MG_EXIT_FAIL;
	mg_async_free(&r);
	mg_sys_close(fd);
	return out_end(rc);
}

MG_COMMAND(async, "[-n N] [--strategy S|all] [--latency T] [--cpu C|any] [--len N] [--spinner] [--bystander] [--svg FILE]",
	   "submit asynchronous reads and show the context each completed in",
	   "  -n, --count N        requests (default 4; 5 with --strategy all)\n"
	   "  -s, --strategy S     adopt_mm (default), pin, remote, buffered, naive, or\n"
	   "                       all (one request per strategy, in turn)\n"
	   "  -l, --latency T      simulated device latency: 10ms (default), 500us, 1s\n"
	   "  -c, --cpu C          CPU the interrupt fires on (default any)\n"
	   "      --len N          bytes per request (default 64)\n"
	   "      --spinner        a busy process pinned to the interrupt's CPU (the last\n"
	   "                       one unless --cpu), so the interrupt lands on it\n"
	   "      --bystander      NAIVE requests with the wrong-process demo, the spinner\n"
	   "                       registered as bystander (module parameter\n"
	   "                       allow_wrong_process_demo=1 needed)\n"
	   "      --svg FILE       draw the requests' journeys from their trace events (a\n"
	   "                       private tracefs instance; root): a lane per CPU, the\n"
	   "                       tasks on it, each submit, interrupt, delivery, reap\n"
	   "The table: the interrupted task (pid/comm), whether its address space is\n"
	   "the origin's, who delivered the data, the result and the latencies.\n");
