// SPDX-License-Identifier: GPL-2.0
/*
 * modegate bench: throughput through the store and the cost of an ioctl
 * round trip, each as a ratio against a baseline measured in the same run
 * (reads of /dev/zero, a memcpy loop, getppid()).  No pass/fail: the
 * numbers depend on the machine; the ratios say what the boundary costs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mgtool.h"

#define MG_BENCH_SIZES 8

struct mg_rate {
	double bytes_per_s;	/* throughput, or */
	double ns_per_op;	/* cost per operation */
	uint64_t ops;
	int err;
};

enum mg_bench_op { B_STORE_READ, B_STORE_WRITE, B_ZERO_READ, B_MEMCPY, B_IOCTL, B_GETPPID };

struct mg_bench_ctx {
	int fd, zero;
	char *buf, *src;
	size_t bs;
	uint64_t capacity;
};

/* One operation of @op; bytes moved, or -errno. */
static ssize_t mg_bench_once(struct mg_bench_ctx *b, enum mg_bench_op op, off_t off)
{
	struct modegate_info info;
	ssize_t n = 0;

	switch (op) {
	case B_STORE_READ:
		n = mg_sys_pread(b->fd, b->buf, b->bs, off);
		break;
	case B_STORE_WRITE:
		n = mg_sys_pwrite(b->fd, b->src, b->bs, off);
		break;
	case B_ZERO_READ:
		n = read(b->zero, b->buf, b->bs);
		break;
	case B_MEMCPY:
		memcpy(b->buf, b->src, b->bs);
		__asm__ __volatile__("" : : "r"(b->buf) : "memory");
		return b->bs;
	case B_IOCTL:
		return mg_ioc(b->fd, MODEGATE_IOC_INFO, &info);
	case B_GETPPID:
		return syscall(SYS_getppid) < 0 ? -errno : 0;
	}
	return n < 0 ? -errno : n;
}

static struct mg_rate mg_bench_measure(struct mg_bench_ctx *b, enum mg_bench_op op,
				       uint64_t budget_ns)
{
	uint64_t start = mg_now_ns(), now = start, bytes = 0;
	struct mg_rate r = { 0 };
	off_t off = 0;

	while (now - start < budget_ns) {
		unsigned int i;

		for (i = 0; i < 16; i++) {
			ssize_t n = mg_bench_once(b, op, off);

			if (n < 0) {
				r.err = n;
				return r;
			}
			bytes += n;
			r.ops++;
			off += b->bs;
			if (off + b->bs > b->capacity)
				off = 0;
		}
		now = mg_now_ns();
	}
	r.bytes_per_s = bytes / ((now - start) / 1e9);
	r.ns_per_op = (double)(now - start) / r.ops;
	return r;
}

static void out_rate(const char *key, const struct mg_rate *r)
{
	if (r->err)
		out_errno(key, r->err);
	else
		out_dbl(key, r->bytes_per_s / (1 << 20), 1);
}

static void out_ratio(const char *key, const struct mg_rate *a, const struct mg_rate *b)
{
	if (a->err || b->err || !b->bytes_per_s)
		out_null(key);
	else
		out_dbl(key, a->bytes_per_s / b->bytes_per_s, 2);
}

/* Save the store's contents, and put them back after the bench. */
static char *mg_store_save(int fd, uint64_t used)
{
	char *saved = malloc(used ? used : 1);

	if (saved && used && mg_sys_pread(fd, saved, used, 0) != (ssize_t)used) {
		free(saved);
		return NULL;
	}
	return saved;
}

static int mg_store_restore(const char *saved, uint64_t used)
{
	int fd = mg_sys_open(MG_DEV, O_WRONLY | O_TRUNC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (used && mg_sys_pwrite(fd, saved, used, 0) != (ssize_t)used)
		ret = -errno;
	mg_sys_close(fd);
	return ret;
}

/* --time and --sizes; 0, or the usage error's exit code. */
static int bench_parse(int argc, char **argv, uint64_t *budget, uint64_t *sizes,
		       unsigned int *nsizes)
{
	static const struct option opts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	char *tok, *list, *save_ptr;
	uint64_t v;
	int c;

	while ((c = mg_getopt(argc, argv, &mg_cmd_bench, "t:s:", opts)) != -1) {
		if (c == 't' && (mg_parse_duration_ns(optarg, budget) || !*budget))
			return mg_usage_error(&mg_cmd_bench, "bad --time '%s' (e.g. 200ms)", optarg);
		if (c != 's')
			continue;
		list = strdupa(optarg);
		*nsizes = 0;
		for (tok = strtok_r(list, ",", &save_ptr); tok; tok = strtok_r(NULL, ",", &save_ptr)) {
			if (*nsizes == MG_BENCH_SIZES || mg_parse_u64(tok, &v) || !v || v > (64 << 20))
				return mg_usage_error(&mg_cmd_bench, "--sizes: up to 8 sizes, 1 to 64M");
			sizes[(*nsizes)++] = v;
		}
	}
	if (optind < argc)
		return mg_usage_error(&mg_cmd_bench, "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* One row of the throughput table: blocks of @size; false on a failure. */
static bool bench_row(struct mg_bench_ctx *b, uint64_t size, uint64_t budget)
{
	struct mg_rate rd, wr, zr, mc;
	char name[32];

	b->bs = size < b->capacity ? size : b->capacity;
	b->buf = calloc(1, b->bs);
	b->src = malloc(b->bs);
	if (!b->buf || !b->src) {
		free(b->buf);
		free(b->src);
		return false;
	}
	memset(b->src, 0x5a, b->bs);
	wr = mg_bench_measure(b, B_STORE_WRITE, budget);
	rd = mg_bench_measure(b, B_STORE_READ, budget);
	zr = mg_bench_measure(b, B_ZERO_READ, budget);
	mc = mg_bench_measure(b, B_MEMCPY, budget);
	out_row();
	mg_fmt_bytes(name, sizeof(name), b->bs);
	out_str(NULL, "%s", name);
	out_rate(NULL, &rd);
	out_rate(NULL, &wr);
	out_rate(NULL, &zr);
	out_rate(NULL, &mc);
	out_ratio(NULL, &rd, &zr);
	out_ratio(NULL, &wr, &zr);
	out_ratio(NULL, &rd, &mc);
	out_close();
	free(b->buf);
	free(b->src);
	return !wr.err && !rd.err && !zr.err;
}

/* One MODEGATE_IOC_INFO against one getppid(); false on a failure. */
static bool bench_round_trip(struct mg_bench_ctx *b, uint64_t budget)
{
	struct mg_rate io = mg_bench_measure(b, B_IOCTL, budget);
	struct mg_rate pp = mg_bench_measure(b, B_GETPPID, budget);

	out_object("round_trip", "round trip: one MODEGATE_IOC_INFO vs one getppid()");
	if (io.err) {
		mg_ioc_fail(MODEGATE_IOC_INFO, io.err);
	} else {
		out_dbl("ioctl_info_ns", io.ns_per_op, 0);
		out_dbl("getppid_ns", pp.ns_per_op, 0);
		out_dbl("ioctl_vs_getppid", io.ns_per_op / pp.ns_per_op, 2);
		out_comment("the ioctl's copy in/out and dispatch over the bare crossing");
	}
	out_close();
	return !io.err;
}

static int bench_run(int argc, char **argv)
{
	static const char *const cols[] = {
		"block", "store_read_mib_s", "store_write_mib_s", "devzero_read_mib_s",
		"memcpy_mib_s", "read_vs_devzero", "write_vs_devzero", "read_vs_memcpy",
	};
	uint64_t sizes[MG_BENCH_SIZES] = { 4096, 65536, 1 << 20 }, budget = 200000000;
	unsigned int nsizes = 3, i;
	struct mg_bench_ctx b = { .fd = -1, .zero = -1 };
	struct modegate_info info;
	char *saved = NULL;
	int rc, ret;

	rc = bench_parse(argc, argv, &budget, sizes, &nsizes);
	if (rc)
		return rc;
	out_begin();
	b.fd = mg_dev_open(O_RDWR);
	if (b.fd < 0)
		return out_end(MG_EXIT_NODEV);
	ret = mg_get_info(b.fd, &info);
	if (ret) {
		mg_sys_close(b.fd);
		return out_end(mg_ioc_fail(MODEGATE_IOC_INFO, ret));
	}
	b.capacity = info.store_capacity;
	b.zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	saved = mg_store_save(b.fd, info.store_used);
	if (b.zero < 0 || !saved) {
		out_error(errno, b.zero < 0 ? "/dev/zero" : "saving the store", NULL);
		rc = MG_EXIT_FAIL;
		goto out;
	}
	out_u64("time_per_measurement_ns", budget);
	out_u64("store_capacity", b.capacity);
	out_comment("the store's contents are saved and put back afterwards");
	out_table("throughput", "throughput (MiB/s) and ratios to the baselines", cols,
		  MG_ARRAY_SIZE(cols));
	for (i = 0; i < nsizes; i++)
		if (!bench_row(&b, sizes[i], budget))
			rc = MG_EXIT_FAIL;
	out_close();
	if (!bench_round_trip(&b, budget))
		rc = MG_EXIT_FAIL;
	ret = mg_store_restore(saved, info.store_used);
	if (ret) {
		out_error(-ret, "putting the store back", NULL);
		rc = MG_EXIT_FAIL;
	}
out:
	free(saved);
	if (b.zero >= 0)
		close(b.zero);
	mg_sys_close(b.fd);
	return out_end(rc);
}

MG_COMMAND(bench, "[--time T] [--sizes 4K,64K,1M]",
	   "store throughput and ioctl cost, as ratios to baselines of the same run",
	   "  -t, --time T       time per measurement (default 200ms)\n"
	   "  -s, --sizes LIST   block sizes (default 4K,64K,1M; capped at the store)\n"
	   "Baselines: read(2) of /dev/zero (the same crossing, the kernel's fastest\n"
	   "copy to user), memcpy in user space, getppid() (a bare system call).\n"
	   "Overwrites the store while it runs and puts its contents back.\n");
