/* SPDX-License-Identifier: GPL-2.0 */
/*
 * modegate tool: declarations shared by its subcommands.
 */
#ifndef _MGTOOL_H
#define _MGTOOL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/modegate.h>

#include "out.h"

#define MG_DEV		"/dev/" MODEGATE_DEVICE_NAME
#define MG_PARAMS	"/sys/module/modegate/parameters"
/* An address in the kernel's half of the address space (the direct map). */
#define MG_KERNEL_ADDR	0xffff888000000000ULL
#define MG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes (documented in --help). */
#define MG_EXIT_OK	0	/* done, every claim held */
#define MG_EXIT_FAIL	1	/* a claim did not hold, or an operation failed */
#define MG_EXIT_USAGE	2	/* bad command line */
#define MG_EXIT_NODEV	3	/* device missing or not accessible */

struct mg_cmd {
	const char *name;
	const char *args;	/* synopsis after the name */
	const char *summary;	/* one line, for the command list */
	const char *help;	/* the options and what the command shows */
	int (*run)(int argc, char **argv);
};

/* Define mg_cmd_NAME, run by NAME_run(): MG_COMMAND(NAME, args, summary, help); */
#define MG_COMMAND(cname, synopsis, oneline, text) \
	const struct mg_cmd mg_cmd_##cname = { #cname, synopsis, oneline, text, cname##_run }

extern const struct mg_cmd mg_cmd_load, mg_cmd_unload, mg_cmd_info, mg_cmd_probe,
	mg_cmd_vaspace, mg_cmd_async, mg_cmd_trace, mg_cmd_stats, mg_cmd_tour,
	mg_cmd_bench;

/* main.c: option parsing shared by every command (--help, --json). */
int mg_getopt(int argc, char **argv, const struct mg_cmd *cmd, const char *shortopts,
	      const struct option *longopts);
void mg_help(const struct mg_cmd *cmd, bool to_stderr);
int mg_usage_error(const struct mg_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * sys.c: the system calls the tool makes to the device, counted, so that
 * the tour can say how many user->kernel transitions a step made and
 * compare with the module's own counters.
 */
struct mg_syscalls {
	unsigned long open, close, read, write, ioctl;
};
extern struct mg_syscalls mg_sys;
int mg_sys_open(const char *path, int flags);
int mg_sys_close(int fd);
ssize_t mg_sys_pread(int fd, void *buf, size_t len, off_t off);
ssize_t mg_sys_pwrite(int fd, const void *buf, size_t len, off_t off);
int mg_sys_ioctl(int fd, unsigned long cmd, void *arg);
unsigned long mg_sys_total(const struct mg_syscalls *s);
void mg_sys_add(struct mg_syscalls *to, const struct mg_syscalls *from);

/* dev.c: the device, its ioctls, its module. */
int mg_dev_open(int flags);			/* fd, or -1 after explaining */
int mg_ioc(int fd, unsigned long cmd, void *arg);	/* >= 0, or -errno */
const char *mg_ioc_name(unsigned long cmd);
int mg_ioc_fail(unsigned long cmd, int err);	/* explains; MG_EXIT_FAIL */
bool mg_unsupported(int err);			/* EOPNOTSUPP/ENOTTY */
int mg_get_info(int fd, struct modegate_info *info);
int mg_get_stats(int fd, struct modegate_stats *st);	/* ioctl or debugfs */
int mg_param_read(const char *name, char *buf, size_t len);
int mg_param_write(const char *name, const char *val);

/* Names of ABI constants. */
const char *mg_strategy_name(unsigned int strategy);
int mg_strategy_parse(const char *s);
const char *mg_outcome_name(unsigned int outcome);
const char *mg_delivered_name(unsigned int by);
const char *mg_async_mm_name(const struct modegate_async_completion *c);

/* util.c */
uint64_t mg_now_ns(void);
int mg_parse_u64(const char *s, uint64_t *v);		/* 4096, 4K, 1M, 0x10 */
int mg_parse_duration_ns(const char *s, uint64_t *ns);	/* 10ms, 2s, 500us */
void mg_fmt_bytes(char *buf, size_t len, double bytes);
void mg_fmt_ns(char *buf, size_t len, double ns);
int mg_read_file(const char *path, char *buf, size_t len);
int mg_write_file(const char *path, const char *val);
int mg_wait_child(pid_t pid, int timeout_ms);	/* exit status, or -errno */
int mg_read_full(int fd, void *buf, size_t len, int timeout_ms);	/* 0 or -errno */
int mg_write_full(int fd, const void *buf, size_t len);
long mg_ncpus(void);
void *mg_grow(void *buf, size_t *cap);	/* realloc to twice; frees and NULL on failure */
int mg_pin_cpu(int cpu);

/* kmsg.c: the kernel log lines an action caused. */
struct mg_kmsg {
	int fd;
};
void mg_kmsg_mark(struct mg_kmsg *k);		/* remember "now" */
/* Emit (out_line @key) the module's lines since the mark; returns count. */
int mg_kmsg_collect(struct mg_kmsg *k, const char *key, bool all, int *splats);
void mg_kmsg_close(struct mg_kmsg *k);

/* probe.c: the probe presets, shared with the tour. */
struct mg_probe_case {
	const char *name;
	const char *what;
	struct modegate_probe p;
	unsigned int expect;	/* expected outcome */
	int expect_error;	/* expected error, or 1: any */
	void *map;		/* memory set up for the case */
	size_t map_len;
	int ret;		/* ioctl result (0 or -errno) */
};
int mg_probe_setup(struct mg_probe_case *c, const char *preset, uint32_t op, uint64_t len,
		   const struct modegate_info *info);
void mg_probe_run(int fd, struct mg_probe_case *c);
void mg_probe_teardown(struct mg_probe_case *c);
bool mg_probe_as_expected(const struct mg_probe_case *c);
void mg_probe_table_begin(void);
void mg_probe_row(const struct mg_probe_case *c);
extern const char *const mg_probe_presets[];

/* vaspace.c: translation of the tool's own pages, shared with the tour. */
int mg_va_translate(int fd, void *addr, unsigned int nr, struct modegate_va_page *pages,
		    unsigned int flags);
void mg_va_table(const char *key, const struct modegate_va_page *pages, unsigned int nr);
unsigned int mg_va_runs(const struct modegate_va_page *pages, unsigned int nr);
struct mg_fork_result {
	uint64_t vaddr;
	pid_t parent, child;
	struct modegate_va_page parent_before, child_before;	/* right after fork */
	struct modegate_va_page parent_after, child_after;	/* after the child's write */
	char parent_sees[32], child_sees[32];
	struct mg_syscalls child_sys;
	int err;		/* 0, or -errno of the first failure */
	const char *failed;	/* what failed */
};
void mg_va_fork(int fd, struct mg_fork_result *r);
void mg_va_fork_diagram(const struct mg_fork_result *r, bool pfn);

/* async.c: one run of asynchronous requests, shared with the tour. */
struct mg_async_opts {
	unsigned int nr;
	int strategy;
	uint64_t latency_ns;
	int cpu;		/* MODEGATE_CPU_ANY or a CPU */
	uint64_t len;
	bool spinner;		/* busy process pinned to the interrupt's CPU */
	bool bystander;		/* ... registered as a bystander (NAIVE demo) */
	uint32_t req_flags;
};
struct mg_async_run {
	struct modegate_async_completion *comps;
	unsigned int nr_comps;
	struct modegate_async_req *reqs;
	unsigned int queued;
	uint64_t submit_ns;		/* duration of the submit ioctl */
	uint64_t submit_end_ns;		/* CLOCK_MONOTONIC when it returned */
	uint64_t wait_ns;		/* submit to all completions */
	pid_t origin, spinner;
	int spinner_cpu, self_cpu;
	int verified;			/* delivered buffers with the right bytes */
	int delivered;
	bool bystander_changed;		/* the bystander's buffer was written */
	char bystander_saw[48];
	struct mg_syscalls child_sys;
	int err;
	const char *failed;
};
void mg_async_do(int fd, const struct mg_async_opts *o, struct mg_async_run *r);
struct mg_trace;
struct mg_journey;
void mg_async_traced(int fd, const struct mg_async_opts *o, struct mg_async_run *r,
		     struct mg_trace *tr, struct mg_journey *j);
void mg_async_header(const struct mg_async_opts *o, const struct mg_async_run *r);
void mg_async_table(const struct mg_async_run *r);
void mg_async_free(struct mg_async_run *r);

/* journey.c: async requests' trace events, per request, for the picture. */
#define MG_JOURNEY_REQS		16
#define MG_JOURNEY_EVENTS	96
enum mg_jkind { MG_J_SUBMIT, MG_J_IRQ, MG_J_DELIVER, MG_J_REAP, MG_J_KINDS };
struct mg_jevent {
	enum mg_jkind kind;
	unsigned int req;	/* index in mg_journey.req */
	uint64_t t_ns;		/* trace timestamp (mono clock) */
	int cpu, pid;		/* where, and the task that ran it */
	char comm[17];
	char via[16];		/* MG_J_DELIVER: the event's via= */
	long long result;	/* MG_J_DELIVER */
};
struct mg_journey {
	struct {
		uint64_t user_data;
	} req[MG_JOURNEY_REQS];
	unsigned int nreq, nev, nposted, nreaped;
	unsigned int posted[MG_JOURNEY_REQS];	/* completion order */
	struct mg_jevent ev[MG_JOURNEY_EVENTS];
};
void mg_journey_line(char *line, void *ctx);

/* svg.c: the journeys drawn, one panel per run, lanes per CPU. */
struct mg_svg_panel {
	const char *title;
	const struct mg_async_run *run;
	const struct mg_journey *journey;
	bool bystander;		/* the run's spinner is the registered bystander */
};
int mg_svg_write(const char *path, const struct mg_svg_panel *panels, unsigned int n);

/* trace.c: a private tracefs instance, and settings put back on exit/signal. */
struct mg_trace {
	char root[64];
	char dir[128];		/* the instance */
	int fd;			/* its trace_pipe, when following */
	int restore_mark;
	size_t used;
	char buf[16384];
};
struct mg_trace_event {
	char *comm;		/* NULL when the trace does not know it */
	char *ts, *event, *details;
	int pid, cpu;
};
int mg_trace_start(struct mg_trace *t, bool follow);	/* 0 or -errno (ENODEV: no events) */
int mg_trace_fail(struct mg_trace *t, int err);	/* explains; the exit code */
int mg_trace_clear(struct mg_trace *t);
int mg_trace_snapshot(struct mg_trace *t, void (*fn)(char *line, void *ctx), void *ctx);
int mg_trace_read(struct mg_trace *t, int timeout_ms, void (*fn)(char *line, void *ctx),
		  void *ctx);
bool mg_trace_parse(char *line, struct mg_trace_event *e);
void mg_trace_stop(struct mg_trace *t);		/* puts tracefs back */
int mg_set_restorable(const char *path, const char *val);
int mg_restore_push(const char *path, const char *val);	/* val NULL: rmdir */
void mg_restore_close_first(int fd);
void mg_restore_all(void);
int mg_restore_mark(void);
void mg_restore_to(int mark);
void mg_catch_stop_signals(void);
int mg_stop_requested(void);

#endif /* _MGTOOL_H */
