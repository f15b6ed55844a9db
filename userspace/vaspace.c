// SPDX-License-Identifier: GPL-2.0
/*
 * modegate vaspace: what the tool's own virtual pages map to
 * (MODEGATE_IOC_VA_TRANSLATE).  A contiguous virtual range lands on
 * scattered physical pages; after fork the same virtual address names a
 * different page in each process once one of them writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "mgtool.h"

#define MG_PIPE_TIMEOUT_MS 10000

int mg_va_translate(int fd, void *addr, unsigned int nr, struct modegate_va_page *pages,
		    unsigned int flags)
{
	struct modegate_va_translate t = {
		.addr = (uintptr_t)addr,
		.nr_pages = nr,
		.pages = (uintptr_t)pages,
		.flags = flags,
	};
	int ret;

	memset(pages, 0, nr * sizeof(*pages));
	ret = mg_ioc(fd, MODEGATE_IOC_VA_TRANSLATE, &t);
	return ret < 0 ? ret : (int)t.nr_done;
}

static void mg_va_flags(char *buf, size_t len, uint32_t flags)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ MODEGATE_PAGE_PRESENT, "present" }, { MODEGATE_PAGE_WRITABLE, "writable" },
		{ MODEGATE_PAGE_HUGE, "huge" }, { MODEGATE_PAGE_ZERO, "zero-page" },
		{ MODEGATE_PAGE_PFN_HIDDEN, "pfn-hidden" },
	};
	unsigned int i;

	*buf = 0;
	for (i = 0; i < MG_ARRAY_SIZE(names); i++)
		if (flags & names[i].bit)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 *buf ? "," : "", names[i].name);
	if (!*buf)
		snprintf(buf, len, "not-present");
}

void mg_va_table(const char *key, const struct modegate_va_page *pages, unsigned int nr)
{
	static const char *const cols[] = { "page", "vaddr", "pfn", "page_id", "flags" };
	char flags[96];
	unsigned int i;

	out_table(key, NULL, cols, MG_ARRAY_SIZE(cols));
	for (i = 0; i < nr; i++) {
		out_row();
		out_u64(NULL, i);
		out_hex(NULL, pages[i].vaddr);
		if (pages[i].flags & MODEGATE_PAGE_PFN_VALID)
			out_hex(NULL, pages[i].pfn);
		else
			out_null(NULL);
		out_hex(NULL, pages[i].page_id);
		mg_va_flags(flags, sizeof(flags), pages[i].flags);
		out_str(NULL, "%s", flags);
		out_close();
	}
	out_close();
}

/* Physically contiguous runs in the range, or 0 when frames are hidden. */
unsigned int mg_va_runs(const struct modegate_va_page *pages, unsigned int nr)
{
	unsigned int i, runs = 1;

	for (i = 0; i < nr; i++)
		if (!(pages[i].flags & MODEGATE_PAGE_PFN_VALID))
			return 0;
	for (i = 1; i < nr; i++)
		if (pages[i].pfn != pages[i - 1].pfn + 1)
			runs++;
	return nr ? runs : 0;
}

/* Child side of mg_va_fork(); never returns. */
static void mg_va_fork_child(int fd, char *page, int in, int out)
{
	struct mg_fork_result r;
	char go;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the tool */
	memset(&mg_sys, 0, sizeof(mg_sys));
	memset(&r, 0, sizeof(r));
	if (mg_va_translate(fd, page, 1, &r.child_before, 0) != 1)
		r.err = -EIO;
	if (mg_write_full(out, &r.child_before, sizeof(r.child_before)) ||
	    mg_read_full(in, &go, 1, MG_PIPE_TIMEOUT_MS))
		_exit(1);
	strcpy(page, "child");
	if (mg_va_translate(fd, page, 1, &r.child_after, 0) != 1)
		r.err = -EIO;
	snprintf(r.child_sees, sizeof(r.child_sees), "%s", page);
	r.child_sys = mg_sys;
	if (mg_write_full(out, &r, sizeof(r)))
		_exit(1);
	_exit(r.err ? 1 : 0);
}

/*
 * Fork with one private page written by the parent: translate it in both
 * processes right after fork (one page, shared copy-on-write), let the
 * child write, translate again (two pages), and read both back.
 */
void mg_va_fork(int fd, struct mg_fork_result *r)
{
	struct mg_fork_result child;
	int to_child[2], to_parent[2];
	long psize = sysconf(_SC_PAGESIZE);
	char *page;
	int ret, st;

	memset(r, 0, sizeof(*r));
	page = mmap(NULL, psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		r->err = -errno;
		r->failed = "mmap";
		return;
	}
	strcpy(page, "parent");
	r->vaddr = (uintptr_t)page;
	if (pipe2(to_child, O_CLOEXEC) || pipe2(to_parent, O_CLOEXEC)) {
		r->err = -errno;
		r->failed = "pipe";
		goto out_unmap;
	}
	r->parent = getpid();
	fflush(stdout);
	r->child = fork();
	if (r->child < 0) {
		r->err = -errno;
		r->failed = "fork";
		goto out_pipes;
	}
	if (r->child == 0)
		mg_va_fork_child(fd, page, to_child[0], to_parent[1]);

	ret = mg_va_translate(fd, page, 1, &r->parent_before, 0);
	if (ret != 1) {
		r->err = ret < 0 ? ret : -EIO;
		r->failed = "VA_TRANSLATE in the parent";
	}
	ret = mg_read_full(to_parent[0], &r->child_before, sizeof(r->child_before),
			   MG_PIPE_TIMEOUT_MS);
	if (!ret)
		ret = mg_write_full(to_child[1], "g", 1);
	if (!ret)
		ret = mg_read_full(to_parent[0], &child, sizeof(child), MG_PIPE_TIMEOUT_MS);
	if (ret) {
		r->err = ret;
		r->failed = "talking to the child";
	} else {
		r->child_after = child.child_after;
		memcpy(r->child_sees, child.child_sees, sizeof(r->child_sees));
		r->child_sys = child.child_sys;
		if (child.err && !r->err) {
			r->err = child.err;
			r->failed = "VA_TRANSLATE in the child";
		}
	}
	ret = mg_va_translate(fd, page, 1, &r->parent_after, 0);
	if (ret != 1 && !r->err) {
		r->err = ret < 0 ? ret : -EIO;
		r->failed = "VA_TRANSLATE in the parent";
	}
	snprintf(r->parent_sees, sizeof(r->parent_sees), "%s", page);
	st = mg_wait_child(r->child, MG_PIPE_TIMEOUT_MS);
	if (st && !r->err) {
		r->err = st < 0 ? st : -ECHILD;
		r->failed = "the child";
	}
out_pipes:
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
out_unmap:
	munmap(page, psize);
}

static void mg_page_name(char *buf, size_t len, const struct modegate_va_page *p, bool pfn)
{
	if (pfn && (p->flags & MODEGATE_PAGE_PFN_VALID))
		snprintf(buf, len, "page %08llx (pfn %#llx)",
			 (unsigned long long)(p->page_id & 0xffffffff), (unsigned long long)p->pfn);
	else
		snprintf(buf, len, "page %08llx", (unsigned long long)(p->page_id & 0xffffffff));
}

void mg_va_fork_diagram(const struct mg_fork_result *r, bool pfn)
{
	static const char *const cols[] = { "when", "parent", "child", "verdict" };
	char pa[64], ch[64];

	out_hex("vaddr", r->vaddr);
	out_comment("the same virtual address in both processes");
	out_u64("parent_pid", r->parent);
	out_u64("child_pid", r->child);
	out_table("fork", NULL, cols, MG_ARRAY_SIZE(cols));
	out_row();
	out_str(NULL, "after fork");
	mg_page_name(pa, sizeof(pa), &r->parent_before, pfn);
	mg_page_name(ch, sizeof(ch), &r->child_before, pfn);
	out_str(NULL, "%s", pa);
	out_str(NULL, "%s", ch);
	out_str(NULL, "%s", r->parent_before.page_id == r->child_before.page_id ?
		"one page, shared copy-on-write" : "two pages");
	out_close();
	out_row();
	out_str(NULL, "child wrote");
	mg_page_name(pa, sizeof(pa), &r->parent_after, pfn);
	mg_page_name(ch, sizeof(ch), &r->child_after, pfn);
	out_str(NULL, "%s", pa);
	out_str(NULL, "%s", ch);
	out_str(NULL, "%s", r->parent_after.page_id == r->child_after.page_id ?
		"one page" : "two pages: the write made the child its own copy");
	out_close();
	out_row();
	out_str(NULL, "reads back");
	out_str(NULL, "\"%s\"", r->parent_sees);
	out_str(NULL, "\"%s\"", r->child_sees);
	out_str(NULL, "%s", strcmp(r->parent_sees, "parent") ? "the parent saw the child's write!" :
		"the child's write is not seen by the parent");
	out_close();
	out_close();

	mg_page_name(pa, sizeof(pa), &r->parent_after, pfn);
	mg_page_name(ch, sizeof(ch), &r->child_after, pfn);
	out_say(" ");
	out_say("  parent %-8d                                      child %d", r->parent, r->child);
	out_say("  %#018llx --> [ %-30s ]", (unsigned long long)r->vaddr, pa);
	out_say("  %18s     [ %-30s ] <-- %#018llx", "", ch, (unsigned long long)r->vaddr);
	out_say(" ");
}

/* --fork: the same address in two processes; the exit code. */
static int vaspace_fork(int fd)
{
	struct mg_fork_result r;

	mg_va_fork(fd, &r);
	if (!r.err) {
		mg_va_fork_diagram(&r, true);
		return MG_EXIT_OK;
	}
	if (mg_unsupported(r.err))
		mg_ioc_fail(MODEGATE_IOC_VA_TRANSLATE, r.err);
	else
		out_error(-r.err, r.failed, NULL);
	return MG_EXIT_FAIL;
}

/* Write the first byte of each of @nr pages of @buf, in the order @touch. */
static void vaspace_touch(char *buf, unsigned int nr, long psize, const char *touch)
{
	unsigned int i, *order = calloc(nr, sizeof(*order));

	if (!order || !strcmp(touch, "none")) {
		free(order);
		return;
	}
	for (i = 0; i < nr; i++)
		order[i] = i;
	if (!strcmp(touch, "shuffled"))
		for (i = nr - 1; i > 0; i--) {
			unsigned int j = random() % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
	out_array("touch_order", NULL);
	for (i = 0; i < nr; i++) {
		buf[order[i] * psize] = 1;
		out_u64(NULL, order[i]);
	}
	out_close();
	free(order);
}

/* @nr fresh pages touched in the order @touch, then translated; exit code. */
static int vaspace_pages(int fd, unsigned int nr, const char *touch)
{
	long psize = sysconf(_SC_PAGESIZE);
	struct modegate_va_page *pages = calloc(nr, sizeof(*pages));
	char *buf = mmap(NULL, nr * psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	unsigned int runs;
	int ret;

	if (buf == MAP_FAILED || !pages) {
		out_error(ENOMEM, "vaspace", NULL);
		ret = -ENOMEM;
		goto out;
	}
	madvise(buf, nr * psize, MADV_NOHUGEPAGE);
	out_hex("start", (uintptr_t)buf);
	out_u64("pages", nr);
	out_u64("page_size", psize);
	out_str("touch", "%s", touch);
	out_comment("a page gets a frame when it is first written");
	vaspace_touch(buf, nr, psize, touch);
	ret = mg_va_translate(fd, buf, nr, pages, 0);
	if (ret < 0) {
		mg_ioc_fail(MODEGATE_IOC_VA_TRANSLATE, ret);
		goto out;
	}
	runs = mg_va_runs(pages, ret);
	mg_va_table("translation", pages, ret);
	if (runs)
		out_u64("physical_runs", runs);
	else
		out_null("physical_runs");
	out_comment(runs ? "contiguous frame runs behind one contiguous virtual range" :
		    "frames hidden (not CAP_SYS_ADMIN): page ids only");
out:
	if (buf != MAP_FAILED)
		munmap(buf, nr * psize);
	free(pages);
	return ret < 0 ? MG_EXIT_FAIL : MG_EXIT_OK;
}

static int vaspace_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pages", required_argument, NULL, 'n' },
		{ "fork", no_argument, NULL, 'f' },
		{ "touch", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *touch = "shuffled";
	bool fork_demo = false;
	unsigned int nr = 8;
	int c, fd, rc;
	uint64_t v;

	while ((c = mg_getopt(argc, argv, &mg_cmd_vaspace, "n:ft:", opts)) != -1) {
		if (c == 'n' && (mg_parse_u64(optarg, &v) || !v || v > 4096))
			return mg_usage_error(&mg_cmd_vaspace, "--pages is 1 to 4096");
		if (c == 'n')
			nr = v;
		else if (c == 'f')
			fork_demo = true;
		else if (c == 't' && strcmp(optarg, "shuffled") && strcmp(optarg, "linear") &&
			 strcmp(optarg, "none"))
			return mg_usage_error(&mg_cmd_vaspace, "--touch is shuffled, linear or none");
		else if (c == 't')
			touch = optarg;
	}
	if (optind < argc)
		return mg_usage_error(&mg_cmd_vaspace, "unexpected argument '%s'", argv[optind]);
	out_begin();
	fd = mg_dev_open(O_RDWR);
	if (fd < 0)
		return out_end(MG_EXIT_NODEV);
	rc = fork_demo ? vaspace_fork(fd) : vaspace_pages(fd, nr, touch);
	mg_sys_close(fd);
	return out_end(rc);
}

MG_COMMAND(vaspace, "[--pages N] [--touch shuffled|linear|none] [--fork]",
	   "translate a range of the tool's own memory to physical pages",
	   "  -n, --pages N    pages to map and translate (default 8)\n"
	   "  -t, --touch HOW  write the pages in shuffled (default) or linear order,\n"
	   "                   or not at all (then nothing is present)\n"
	   "  -f, --fork       fork: the same virtual address in two processes, on one\n"
	   "                   page until the child writes, then on two\n"
	   "Frame numbers are shown to CAP_SYS_ADMIN only; page_id always.\n");
