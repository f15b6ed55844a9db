// SPDX-License-Identifier: GPL-2.0
/*
 * modegate probe: let the kernel touch a user address and say what
 * happened.  Presets set up the classic bad buffers a driver must survive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mgtool.h"

const char *const mg_probe_presets[] = {
	"ok", "null", "kernel", "unmapped", "readonly", "spanning", "toobig", NULL,
};

static const char *const mg_probe_cols[] = {
	"target", "addr", "op", "len", "outcome", "error", "copied", "fault_addr", "expected",
};

static void *mg_map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Set up @c for @preset (or a numeric address); 0 or -errno.  The expected
 * outcome follows from the memory the preset arranged, never from the
 * module's answer.
 */
int mg_probe_setup(struct mg_probe_case *c, const char *preset, uint32_t op, uint64_t len,
		   const struct modegate_info *info)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t addr;

	memset(c, 0, sizeof(*c));
	c->name = preset;
	c->p.op = op;
	c->p.len = len;
	c->expect_error = -EFAULT;
	if (!strcmp(preset, "ok")) {
		c->what = "a writable buffer of this process";
		c->map = mg_map(page, PROT_READ | PROT_WRITE);
		c->map_len = page;
		c->p.addr = (uintptr_t)c->map;
		c->expect = MODEGATE_PROBE_OK;
		c->expect_error = 0;
	} else if (!strcmp(preset, "null")) {
		c->what = "the NULL pointer";
		c->p.addr = 0;
		c->expect = MODEGATE_PROBE_FAULT;
		return 0;
	} else if (!strcmp(preset, "kernel")) {
		c->what = "a kernel address passed as a user buffer";
		c->p.addr = MG_KERNEL_ADDR;
		c->expect = MODEGATE_PROBE_NOT_USER;
		return 0;
	} else if (!strcmp(preset, "unmapped")) {
		c->what = "a page just unmapped (hole between two mapped pages)";
		c->map = mg_map(3 * page, PROT_READ | PROT_WRITE);
		c->map_len = 3 * page;
		if (c->map && munmap((char *)c->map + page, page))
			return -errno;
		c->p.addr = (uintptr_t)c->map + page;
		c->expect = MODEGATE_PROBE_FAULT;
	} else if (!strcmp(preset, "readonly")) {
		c->what = "a read-only mapping";
		c->map = mg_map(page, PROT_READ);
		c->map_len = page;
		c->p.addr = (uintptr_t)c->map;
		c->expect = op == MODEGATE_PROBE_TO_USER ? MODEGATE_PROBE_READONLY : MODEGATE_PROBE_OK;
		c->expect_error = op == MODEGATE_PROBE_TO_USER ? -EFAULT : 0;
	} else if (!strcmp(preset, "spanning")) {
		c->what = "a buffer whose second half is on an unmapped page";
		c->map = mg_map(2 * page, PROT_READ | PROT_WRITE);
		c->map_len = 2 * page;
		if (c->map && munmap((char *)c->map + page, page))
			return -errno;
		if (len < 2)
			c->p.len = len = 2;
		c->p.addr = (uintptr_t)c->map + page - len / 2;
		c->expect = MODEGATE_PROBE_PARTIAL;
	} else if (!strcmp(preset, "toobig")) {
		c->what = "a length above max_probe_len";
		if (!info || !info->max_probe_len)
			return -EOPNOTSUPP;
		c->p.len = info->max_probe_len + 1;
		c->p.addr = 0;
		c->expect = MODEGATE_PROBE_TOO_BIG;
		c->expect_error = 1;
		return 0;
	} else {
		c->what = "an address given on the command line";
		if (mg_parse_u64(preset, &addr))
			return -EINVAL;
		c->p.addr = addr;
		c->expect = 0;
		c->expect_error = 1;
		return 0;
	}
	if (!c->map)
		return -ENOMEM;
	if (c->map_len && (c->p.op == MODEGATE_PROBE_FROM_USER) && strcmp(preset, "readonly"))
		memset(c->map, 0x5a, page);
	return 0;
}

void mg_probe_run(int fd, struct mg_probe_case *c)
{
	c->ret = mg_ioc(fd, MODEGATE_IOC_PROBE, &c->p);
}

void mg_probe_teardown(struct mg_probe_case *c)
{
	long page = sysconf(_SC_PAGESIZE);

	if (!c->map)
		return;
	if (!strcmp(c->name, "unmapped")) {
		munmap(c->map, page);
		munmap((char *)c->map + 2 * page, page);
	} else if (!strcmp(c->name, "spanning")) {
		munmap(c->map, page);
	} else {
		munmap(c->map, c->map_len);
	}
	c->map = NULL;
}

/* A TO_USER probe that copied must have left the pattern, and only there. */
static bool mg_probe_pattern_ok(const struct mg_probe_case *c)
{
	const unsigned char *p = (const unsigned char *)(uintptr_t)c->p.addr;
	uint64_t i;

	if (c->p.op != MODEGATE_PROBE_TO_USER || !c->map || !c->p.copied)
		return true;
	for (i = 0; i < c->p.copied; i++)
		if (p[i] != MODEGATE_PROBE_PATTERN)
			return false;
	return true;
}

bool mg_probe_as_expected(const struct mg_probe_case *c)
{
	if (c->ret)
		return false;
	if (c->expect && c->p.outcome != c->expect)
		return false;
	if (c->expect_error != 1 && c->p.error != c->expect_error)
		return false;
	if (c->expect == MODEGATE_PROBE_OK && c->p.copied != c->p.len)
		return false;
	if (c->expect == MODEGATE_PROBE_PARTIAL &&
	    (!c->p.copied || c->p.copied >= c->p.len))
		return false;
	return mg_probe_pattern_ok(c);
}

void mg_probe_table_begin(void)
{
	out_table("probes", NULL, mg_probe_cols, MG_ARRAY_SIZE(mg_probe_cols));
}

void mg_probe_row(const struct mg_probe_case *c)
{
	out_row();
	out_str(NULL, "%s", c->name);
	out_hex(NULL, c->p.addr);
	out_str(NULL, "%s", c->p.op == MODEGATE_PROBE_TO_USER ? "to_user" : "from_user");
	out_u64(NULL, c->p.len);
	if (c->ret) {
		out_str(NULL, "ioctl failed");
		out_errno(NULL, c->ret);
		out_null(NULL);
		out_null(NULL);
	} else {
		out_str(NULL, "%s", mg_outcome_name(c->p.outcome));
		out_errno(NULL, c->p.error);
		out_u64(NULL, c->p.copied);
		out_hex(NULL, c->p.fault_addr);
	}
	if (c->expect)
		out_str(NULL, "%s%s", mg_outcome_name(c->expect),
			mg_probe_as_expected(c) ? "" : " (NOT MET)");
	else
		out_null(NULL);
	out_close();
}

/* ADDRESS, a preset or "all" as the targets to probe; how many (0: bad). */
static unsigned int probe_targets(const char *arg, const char **targets)
{
	unsigned int n;
	uint64_t addr;

	if (!strcmp(arg, "all")) {
		for (n = 0; mg_probe_presets[n]; n++)
			targets[n] = mg_probe_presets[n];
		return n;
	}
	for (n = 0; mg_probe_presets[n]; n++)
		if (!strcmp(arg, mg_probe_presets[n]))
			break;
	if (!mg_probe_presets[n] && mg_parse_u64(arg, &addr))
		return 0;
	targets[0] = arg;
	return 1;
}

static int probe_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "op", required_argument, NULL, 'o' },
		{ "len", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct mg_probe_case cases[MG_ARRAY_SIZE(mg_probe_presets)];
	const char *targets[MG_ARRAY_SIZE(mg_probe_presets)];
	uint32_t op = MODEGATE_PROBE_TO_USER;
	struct modegate_info info;
	unsigned int n, i;
	int c, fd, ret, rc = MG_EXIT_OK;
	uint64_t len = 64;

	while ((c = mg_getopt(argc, argv, &mg_cmd_probe, "o:l:", opts)) != -1) {
		if (c == 'o' && (!strcmp(optarg, "to") || !strcmp(optarg, "to_user")))
			op = MODEGATE_PROBE_TO_USER;
		else if (c == 'o' && (!strcmp(optarg, "from") || !strcmp(optarg, "from_user")))
			op = MODEGATE_PROBE_FROM_USER;
		else if (c == 'o')
			return mg_usage_error(&mg_cmd_probe, "--op is 'to' or 'from'");
		else if (c == 'l' && (mg_parse_u64(optarg, &len) || !len))
			return mg_usage_error(&mg_cmd_probe, "bad --len '%s'", optarg);
	}
	if (optind + 1 != argc)
		return mg_usage_error(&mg_cmd_probe, "give one ADDRESS or preset");
	n = probe_targets(argv[optind], targets);
	if (!n)
		return mg_usage_error(&mg_cmd_probe, "'%s' is neither an address nor a preset",
				      argv[optind]);

	out_begin();
	fd = mg_dev_open(O_RDWR);
	if (fd < 0)
		return out_end(MG_EXIT_NODEV);
	if (mg_get_info(fd, &info))
		memset(&info, 0, sizeof(info));
	for (i = 0; i < n; i++) {
		ret = mg_probe_setup(&cases[i], targets[i], op, len, &info);
		if (ret) {
			out_error(-ret, targets[i], "could not set up this preset");
			rc = MG_EXIT_FAIL;
			n = i;
			break;
		}
		mg_probe_run(fd, &cases[i]);
		if (cases[i].ret) {
			mg_ioc_fail(MODEGATE_IOC_PROBE, cases[i].ret);
			rc = MG_EXIT_FAIL;
			n = i + 1;
			break;
		}
	}
	mg_probe_table_begin();
	for (i = 0; i < n; i++)
		mg_probe_row(&cases[i]);
	out_close();
	for (i = 0; i < n; i++) {
		if (cases[i].expect && !cases[i].ret && !mg_probe_as_expected(&cases[i]))
			rc = MG_EXIT_FAIL;
		mg_probe_teardown(&cases[i]);
	}
	mg_sys_close(fd);
	return out_end(rc);
}

MG_COMMAND(probe, "[--op to|from] [--len N] ADDRESS|PRESET|all",
	   "let the kernel copy to/from an address and classify what happened",
	   "  -o, --op to|from  copy_to_user (writes 0xA5 bytes, default) or copy_from_user\n"
	   "  -l, --len N       bytes to copy (default 64)\n"
	   "presets (the tool arranges the memory and knows the expected outcome):\n"
	   "  ok        a writable buffer of this process          -> OK\n"
	   "  null      address 0                                  -> FAULT, EFAULT\n"
	   "  kernel    " "0xffff888000000000, the kernel's half       -> NOT_USER, EFAULT\n"
	   "  unmapped  a hole between two mapped pages            -> FAULT, EFAULT\n"
	   "  readonly  a PROT_READ page (to_user)                 -> READONLY, EFAULT\n"
	   "  spanning  the second half of the buffer unmapped     -> PARTIAL, EFAULT\n"
	   "  toobig    len = max_probe_len + 1                    -> TOO_BIG\n"
	   "  all       every preset\n"
	   "Exits 1 when a preset's outcome is not the expected one.\n");
