// SPDX-License-Identifier: GPL-2.0
/*
 * modegate tour: the concepts of modegate(7), each step demonstrated and measured
 * live on this machine.
 *
 * Every step prints what it did and measured, asserts its claims, and ends
 * with the system calls it made to the device (counted by the tool's
 * wrappers, sys.c) checked against the module's own counters, and with the
 * kernel log lines it caused (/dev/kmsg, with the module parameter trace=1
 * set for the tour when it is writable).  The tour exits 1 if any claim did
 * not hold here.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kmodload.h"
#include "mgtool.h"

struct tour {
	int fd;
	struct modegate_info info;
	bool root;
	bool bystander;			/* --bystander: demo enabled for the tour */
	const char *svg_dir;		/* --svg DIR: the async step's picture */
	/* per step */
	struct modegate_stats st_before;
	bool stats_by_ioctl;
	bool stats_ok;
	struct mg_syscalls extra;	/* device calls made by children and helpers */
	unsigned long vfs_refused_reads;	/* refused before reaching the driver */
	bool unavailable;		/* a part of the module is not there yet */
};

struct tour_step {
	const char *name;
	const char *title;
	const char *see;		/* the concept in modegate(7) */
	const char *lesson;
	void (*run)(struct tour *t);
};

/* A part of the module returned EOPNOTSUPP/ENOTTY: say so, as a failed claim. */
static void tour_unavailable(struct tour *t, unsigned long cmd, int err)
{
	t->unavailable = true;
	out_claim(false, "%s is not available: %s (%s): that part of the module has not landed",
		  mg_ioc_name(cmd), strerrorname_np(-err) ? : "?", strerror(-err));
}

/* ---- catching a fault of our own ---- */

struct mg_fault {
	bool faulted;
	int sig, code;
	uintptr_t addr;
};

static sigjmp_buf mg_fault_jmp;
static struct mg_fault *mg_fault_cur;

static void mg_fault_handler(int sig, siginfo_t *si, void *uc)
{
	mg_fault_cur->faulted = true;
	mg_fault_cur->sig = sig;
	mg_fault_cur->code = si->si_code;
	mg_fault_cur->addr = (uintptr_t)si->si_addr;
	siglongjmp(mg_fault_jmp, 1);
}

/* Run @fn(@arg); if it raises SIGSEGV/SIGBUS, record it in @f and return. */
static void mg_try(void (*fn)(uintptr_t), uintptr_t arg, struct mg_fault *f)
{
	struct sigaction sa, old_segv, old_bus;

	memset(f, 0, sizeof(*f));
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = mg_fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	mg_fault_cur = f;
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (!sigsetjmp(mg_fault_jmp, 1))
		fn(arg);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
}

static const char *mg_si_code_name(int sig, int code)
{
	if (code == SI_KERNEL)
		return "SI_KERNEL (general protection fault)";
	if (sig == SIGSEGV && code == SEGV_MAPERR)
		return "SEGV_MAPERR (no mapping for the address)";
	if (sig == SIGSEGV && code == SEGV_ACCERR)
		return "SEGV_ACCERR (mapping forbids the access)";
	return "other";
}

static void mg_do_hlt(uintptr_t unused)
{
	__asm__ __volatile__("hlt");
}

static void mg_do_read(uintptr_t addr)
{
	(void)*(volatile char *)addr;
}

static unsigned int mg_read_cs(void)
{
	unsigned short cs;

	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	return cs;
}

/* ---- step 1: two modes ---- */

static void step_modes(struct tour *t)
{
	unsigned int cs = mg_read_cs();
	struct modegate_info info;
	struct mg_fault f;
	int ret;

	out_hex("user_cs", cs);
	out_comment("the code segment selector, read in user space with mov %%cs");
	out_u64("user_cpl", cs & 3);
	out_comment("its low two bits: the current privilege level");
	out_claim((cs & 3) == 3, "this tool runs at privilege level 3 (user mode): CS & 3 = %u",
		  cs & 3);

	ret = mg_get_info(t->fd, &info);
	if (ret) {
		tour_unavailable(t, MODEGATE_IOC_INFO, ret);
		return;
	}
	out_u64("caller_cpl", info.caller_cpl);
	out_comment("the CS the ioctl saved on entry (pt_regs), as the module saw it");
	out_u64("handler_cpl", info.handler_cpl);
	out_comment("the CS of the ioctl handler itself");
	out_claim(info.caller_cpl == 3 && (info.mode_flags & MODEGATE_MODE_USER_ENTRY),
		  "the ioctl entered the kernel from ring 3: caller_cpl = %u", info.caller_cpl);
	out_claim(info.handler_cpl == 0, "the ioctl handler ran at ring 0 (kernel mode): handler_cpl = %u",
		  info.handler_cpl);

	mg_try(mg_do_hlt, 0, &f);
	out_str("hlt_in_user_mode", "%s", f.faulted ? strsignal(f.sig) : "executed");
	if (f.faulted)
		out_comment("%s", mg_si_code_name(f.sig, f.code));
	out_claim(f.faulted && f.sig == SIGSEGV,
		  "ring 3 may not run a privileged instruction: hlt raised #GP, delivered as SIGSEGV");
	out_say("The same CPU, two privilege levels: the tool at 3, the module's code at 0.");
}

/* ---- step 2: system calls are the door ---- */

static void step_syscalls(struct tour *t)
{
	static const char msg[] = "hello from ring 3";
	struct modegate_info info;
	uint64_t t0, sys_ns, call_ns;
	volatile unsigned long sink = 0;
	char back[sizeof(msg)];
	ssize_t w, r;
	int i, ret;

	w = mg_sys_pwrite(t->fd, msg, sizeof(msg), 0);
	r = mg_sys_pread(t->fd, back, sizeof(back), 0);
	out_str("wrote", "\"%s\" (%zd bytes, write(2): copy_from_user)", msg, w);
	out_str("read_back", "\"%.*s\" (%zd bytes, read(2): copy_to_user)",
		r > 0 ? (int)r - 1 : 0, back, r);
	out_claim(w == sizeof(msg) && r == sizeof(msg) && !memcmp(msg, back, sizeof(msg)),
		  "the bytes crossed into the kernel's store and back intact");
	ret = mg_get_info(t->fd, &info);
	if (ret)
		tour_unavailable(t, MODEGATE_IOC_INFO, ret);

	/* What one crossing costs, against a plain function call. */
	t0 = mg_now_ns();
	for (i = 0; i < 20000; i++)
		syscall(SYS_getppid);
	sys_ns = (mg_now_ns() - t0) / 20000;
	t0 = mg_now_ns();
	for (i = 0; i < 20000; i++) {
		sink += i;
		__asm__ __volatile__("" : : : "memory");
	}
	call_ns = (mg_now_ns() - t0) / 20000;
	out_u64("getppid_ns", sys_ns);
	out_comment("one bare system call: user -> kernel -> user");
	out_u64("loop_step_ns", call_ns);
	out_comment("one step of a loop that stays in user mode");
	out_say("A program cannot call into the kernel like a library: it asks, with a");
	out_say("system call instruction; the CPU switches to ring 0 at the kernel's entry");
	out_say("point, and back to ring 3 when the answer is ready.");
}

/* ---- step 3: private address spaces ---- */

static void step_private(struct tour *t)
{
	struct mg_fork_result r;

	mg_va_fork(t->fd, &r);
	mg_sys_add(&t->extra, &r.child_sys);
	if (r.err) {
		if (mg_unsupported(r.err))
			tour_unavailable(t, MODEGATE_IOC_VA_TRANSLATE, r.err);
		else
			out_claim(false, "%s failed: %s", r.failed, strerror(-r.err));
		return;
	}
	mg_va_fork_diagram(&r, t->root);
	out_claim(r.parent_before.page_id && r.parent_before.page_id == r.child_before.page_id,
		  "right after fork both processes map %#llx to the same physical page (copy-on-write)",
		  (unsigned long long)r.vaddr);
	out_claim(r.parent_after.page_id && r.child_after.page_id &&
		  r.parent_after.page_id != r.child_after.page_id,
		  "after the child wrote, the same virtual address names two different physical pages");
	out_claim(!strcmp(r.parent_sees, "parent") && !strcmp(r.child_sees, "child"),
		  "the child's write is invisible to the parent: it reads \"%s\", the child \"%s\"",
		  r.parent_sees, r.child_sees);
}

/* ---- step 4: contiguous virtual, scattered physical ---- */

#define MG_SCATTER_PAGES 8

static int mg_map_and_translate(struct tour *t, const unsigned int *order,
				struct modegate_va_page *pages, char **mem)
{
	long psize = t->info.page_size;
	unsigned int i;
	char *buf;

	buf = mmap(NULL, MG_SCATTER_PAGES * psize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -errno;
	madvise(buf, MG_SCATTER_PAGES * psize, MADV_NOHUGEPAGE);
	for (i = 0; i < MG_SCATTER_PAGES; i++)
		buf[order[i] * psize] = 1;
	*mem = buf;
	return mg_va_translate(t->fd, buf, MG_SCATTER_PAGES, pages, 0);
}

static void step_scatter(struct tour *t)
{
	static const unsigned int linear[MG_SCATTER_PAGES] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const unsigned int shuffled[MG_SCATTER_PAGES] = { 5, 2, 7, 0, 3, 6, 1, 4 };
	struct modegate_va_page lin[MG_SCATTER_PAGES] = { 0 }, shuf[MG_SCATTER_PAGES] = { 0 };
	long psize = t->info.page_size;
	unsigned int i, j, present = 0, huge = 0, distinct = 1, runs_lin, runs;
	char *mem_lin = NULL, *mem = NULL;
	int ret;

	out_u64("page_size", t->info.page_size);
	out_claim(t->info.page_size == 4096, "a page is 4 KiB (PAGE_SIZE = %u)", t->info.page_size);

	ret = mg_map_and_translate(t, linear, lin, &mem_lin);
	if (ret >= 0)
		ret = mg_map_and_translate(t, shuffled, shuf, &mem);
	if (ret < 0) {
		if (mg_unsupported(ret))
			tour_unavailable(t, MODEGATE_IOC_VA_TRANSLATE, ret);
		else
			out_claim(false, "translating the range failed: %s", strerror(-ret));
		goto out;
	}
	out_say("%u pages written in order, then %u more written in the order 5 2 7 0 3 6 1 4;",
		MG_SCATTER_PAGES, MG_SCATTER_PAGES);
	out_say("a page gets its physical frame when it is first written.");
	mg_va_table("shuffled", shuf, MG_SCATTER_PAGES);
	for (i = 0; i < MG_SCATTER_PAGES; i++) {
		present += !!(shuf[i].flags & MODEGATE_PAGE_PRESENT);
		huge += !!(shuf[i].flags & MODEGATE_PAGE_HUGE);
		for (j = 0; j < i; j++)
			if (shuf[i].page_id == shuf[j].page_id)
				distinct = 0;
	}
	out_claim(present == MG_SCATTER_PAGES && !huge && distinct && ret == MG_SCATTER_PAGES,
		  "one contiguous virtual range of %u KiB is %u separate 4 KiB pages, each mapped on its own",
		  (unsigned int)(MG_SCATTER_PAGES * psize / 1024), MG_SCATTER_PAGES);
	runs_lin = mg_va_runs(lin, MG_SCATTER_PAGES);
	runs = mg_va_runs(shuf, MG_SCATTER_PAGES);
	if (!runs) {
		out_say("Frame numbers are hidden from callers without CAP_SYS_ADMIN; run as");
		out_say("root to see where the frames lie.");
		goto out;
	}
	out_u64("frame_runs_written_in_order", runs_lin);
	out_comment("physically contiguous runs behind the 8 virtual pages (not asserted)");
	out_u64("frame_runs_written_shuffled", runs);
	out_claim(runs > 1,
		  "the frames behind the contiguous virtual range are not contiguous: %u separate runs",
		  runs);
out:
	if (mem_lin)
		munmap(mem_lin, MG_SCATTER_PAGES * psize);
	if (mem)
		munmap(mem, MG_SCATTER_PAGES * psize);
}

/* ---- step 5: the split ---- */

/*
 * Run modegate-info32 -- next to this binary (the build tree), else in the
 * installed helper directory -- and parse its key=value line.
 */
static int mg_info32(struct tour *t, uint64_t *task_size, unsigned int *cpl,
		     unsigned int *flags, unsigned long *stack)
{
	char self[512], path[600], line[512];
	unsigned int ioctls = 0, opens = 0, closes = 0;
	ssize_t n;
	FILE *p;
	int st;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	snprintf(path, sizeof(path), "%s/modegate-info32", dirname(self));
	if (access(path, X_OK))
		snprintf(path, sizeof(path), "%s/modegate-info32", MG_HELPERDIR);
	if (access(path, X_OK))
		return -ENOENT;
	fflush(stdout);
	p = popen(path, "re");
	if (!p)
		return -errno;
	if (!fgets(line, sizeof(line), p))
		line[0] = 0;
	st = pclose(p);
	if (sscanf(line, "ptr_bits=32 abi_version=%*u task_size=%lx caller_cpl=%u handler_cpl=%*u mode_flags=%x stack=%lx ioctls=%u opens=%u closes=%u",
		   task_size, cpl, flags, stack, &ioctls, &opens, &closes) != 7 ||
	    !WIFEXITED(st) || WEXITSTATUS(st))
		return -EIO;
	t->extra.ioctl += ioctls;
	t->extra.open += opens;
	t->extra.close += closes;
	return 0;
}

/* TASK_SIZE, and where this process's memory lies below it. */
static void split_task_size(struct tour *t)
{
	uint64_t ts = t->info.task_size;
	bool la57 = ts > (1ULL << 47);
	void *m, *hi = MAP_FAILED;
	char size[32];
	int local;

	mg_fmt_bytes(size, sizeof(size), (double)ts);
	out_hex("task_size", ts);
	out_comment("%s: the first address above user space", size);
	out_claim(ts == (1ULL << 47) - 4096 || ts == (1ULL << 56) - 4096,
		  "TASK_SIZE is %s: 128 TiB - 4 KiB with 4-level paging, 64 PiB - 4 KiB with 5-level",
		  size);
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	out_hex("stack_addr", (uintptr_t)&local);
	out_hex("mmap_addr", (uintptr_t)m);
	out_claim(m != MAP_FAILED && (uintptr_t)m < (1ULL << 47) && (uintptr_t)&local < (1ULL << 47),
		  "this process's stack and mappings lie below 128 TiB (0x7fffffffffff), the 64-bit user range");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	if (la57) {
		hi = mmap((void *)(1ULL << 48), 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		out_say("This CPU and kernel use 5-level paging: user space could reach 64 PiB, but");
		out_say("mmap stays below 128 TiB unless a program asks for more with an address hint.");
		out_hex("mmap_with_hint_above_128TiB", hi == MAP_FAILED ? 0 : (uintptr_t)hi);
		out_claim(hi != MAP_FAILED && (uintptr_t)hi >= (1ULL << 47),
			  "asked for it, a process gets an address above 128 TiB");
		if (hi != MAP_FAILED)
			munmap(hi, 4096);
	}
}

/* The kernel's half: out of reach of the tool, refused as a user buffer. */
static void split_kernel_address(struct tour *t)
{
	struct modegate_stats before, after;
	struct mg_probe_case pc;
	struct mg_fault f;
	char buf[16];
	int ret, err;
	ssize_t r;

	/* The tool itself touching the kernel's half. */
	mg_try(mg_do_read, MG_KERNEL_ADDR, &f);
	out_str("user_read_of_kernel_address", "%s", f.faulted ? strsignal(f.sig) : "succeeded");
	if (f.faulted)
		out_comment("at %#lx: %s", (unsigned long)f.addr, mg_si_code_name(f.sig, f.code));
	out_claim(f.faulted && f.sig == SIGSEGV,
		  "reading the kernel address %#llx from user mode raised SIGSEGV (caught, reported)",
		  MG_KERNEL_ADDR);

	/* The kernel refusing a kernel address passed as a user buffer. */
	ret = mg_probe_setup(&pc, "kernel", MODEGATE_PROBE_TO_USER, 64, &t->info);
	if (!ret) {
		mg_probe_run(t->fd, &pc);
		if (mg_unsupported(pc.ret)) {
			tour_unavailable(t, MODEGATE_IOC_PROBE, pc.ret);
		} else {
			mg_probe_table_begin();
			mg_probe_row(&pc);
			out_close();
			out_claim(mg_probe_as_expected(&pc),
				  "the module refuses a kernel address as a user buffer: %s, %s (access_ok)",
				  mg_outcome_name(pc.p.outcome),
				  pc.p.error ? strerrorname_np(-pc.p.error) : "0");
		}
		mg_probe_teardown(&pc);
	}
	/* Counted STATS calls around it: the cross-check below includes them. */
	ret = mg_get_stats(t->fd, &before);
	r = mg_sys_pread(t->fd, (void *)(uintptr_t)MG_KERNEL_ADDR, sizeof(buf), 0);
	err = r < 0 ? -errno : 0;
	if (!ret)
		ret = mg_get_stats(t->fd, &after);
	t->vfs_refused_reads += r < 0 && err == -EFAULT;
	out_errno("read_into_kernel_address", err);
	out_claim(r < 0 && err == -EFAULT,
		  "read(2) into a kernel address fails with EFAULT");
	if (!ret)
		out_claim(after.reads == before.reads,
			  "the VFS refused it (access_ok() in vfs_read) before the driver ran: the module counted no read");
}

/* A 32-bit process's split, from modegate-info32. */
static void split_32bit(struct tour *t)
{
	unsigned int cpl32 = 0, flags32 = 0;
	unsigned long stack32 = 0;
	uint64_t ts32 = 0;
	char size[32];
	int ret;

	/* A 32-bit process. */
	ret = mg_info32(t, &ts32, &cpl32, &flags32, &stack32);
	if (ret == -ENOENT) {
		out_str("info32", "not installed");
		out_comment("modegate-info32 needs a -m32 toolchain (gcc-multilib)");
	} else if (ret) {
		out_claim(false, "modegate-info32 failed: %s", strerror(-ret));
	} else {
		mg_fmt_bytes(size, sizeof(size), (double)ts32);
		out_hex("task_size_32bit", ts32);
		out_comment("4 GiB - %llu KiB, for a 32-bit process (compat mode) on this 64-bit kernel",
			    ts32 <= (4ULL << 30) ? (unsigned long long)((4ULL << 30) - ts32) / 1024 : 0);
		out_hex("stack_addr_32bit", stack32);
		out_comment("its stack: above 3 GiB, where a 32-bit kernel would keep itself");
		out_claim((flags32 & MODEGATE_MODE_COMPAT) && cpl32 == 3,
			  "the kernel saw a 32-bit (compat) caller from ring 3");
		out_claim(ts32 > (3ULL << 30) && ts32 <= (4ULL << 30),
			  "a 32-bit process gets %s here: Linux gives up to 4 GiB on a 64-bit kernel (3 GiB on a 32-bit one); a 2 GiB user space is Windows' default",
			  size);
	}
}

static void step_split(struct tour *t)
{
	split_task_size(t);
	split_kernel_address(t);
	split_32bit(t);
}

/* ---- step 6: the kernel validates everything ---- */

static void step_validate(struct tour *t)
{
	static const char *const presets[] = { "ok", "null", "unmapped", "readonly", "kernel",
					       "spanning" };
	struct mg_probe_case pc[MG_ARRAY_SIZE(presets)];
	struct modegate_info info;
	unsigned int i, n = 0, good = 0;
	int ret;

	out_say("A driver is handed addresses by whoever calls it.  Each of these is passed");
	out_say("to the module, which copies with copy_to_user() and reports what happened.");
	for (i = 0; i < MG_ARRAY_SIZE(presets); i++) {
		if (mg_probe_setup(&pc[n], presets[i], MODEGATE_PROBE_TO_USER, 64, &t->info))
			continue;
		mg_probe_run(t->fd, &pc[n]);
		if (mg_unsupported(pc[n].ret)) {
			tour_unavailable(t, MODEGATE_IOC_PROBE, pc[n].ret);
			mg_probe_teardown(&pc[n]);
			return;
		}
		n++;
	}
	mg_probe_table_begin();
	for (i = 0; i < n; i++)
		mg_probe_row(&pc[i]);
	out_close();
	for (i = 0; i < n; i++) {
		bool ok = mg_probe_as_expected(&pc[i]);

		good += ok;
		out_claim(ok, "%s (%s): %s, error %s, %llu bytes copied", pc[i].name, pc[i].what,
			  mg_outcome_name(pc[i].p.outcome),
			  pc[i].p.error ? strerrorname_np(-pc[i].p.error) : "0",
			  (unsigned long long)pc[i].p.copied);
		mg_probe_teardown(&pc[i]);
	}
	ret = mg_get_info(t->fd, &info);
	out_claim(!ret && good == n,
		  "every bad buffer gave a clean error and the kernel is still answering (INFO after the probes)");
	out_say("A kernel that trusted these addresses would have crashed - for everyone.");
	out_say("The 2024 content-update outage was this: code in kernel mode that did not");
	out_say("validate its input took whole machines down.");
	out_say("make crash shows both: one user crash, then one kernel crash, in a VM.");
}

/* ---- step 7: the asynchronous read ---- */

/* The step's runs, their trace events and the picture's panels. */
struct tour_async {
	struct mg_trace tr;
	bool tracing;
	unsigned int nruns, trace_lines;
	struct mg_async_run run[3];
	struct mg_journey journey[3];
	struct mg_svg_panel panel[3];
};

static void tour_trace_line(char *line, void *ctx)
{
	struct tour_async *ta = ctx;
	struct mg_trace_event e;

	if (!mg_trace_parse(line, &e) || strncmp(e.event, "modegate_async", 14))
		return;
	ta->trace_lines++;
	out_line("trace", "%s [%03d] %s/%d %s: %s", e.ts, e.cpu, e.comm ? e.comm : "", e.pid,
		 e.event, e.details);
}

static bool mg_hit_other(const struct mg_async_run *r)
{
	unsigned int i;

	for (i = 0; i < r->nr_comps; i++)
		if (r->comps[i].irq_tgid && r->comps[i].irq_tgid != r->origin)
			return true;
	return false;
}

static bool mg_hit_bystander(const struct mg_async_run *r)
{
	return r->nr_comps && r->comps[0].irq_tgid == r->spinner;
}

/*
 * Run @o until the interrupt lands on another process (at most 3 rounds),
 * as the step's next run; print its table and trace events.  NULL (after
 * a failed claim) if it failed.
 */
static struct mg_async_run *tour_async(struct tour *t, struct tour_async *ta,
				       const struct mg_async_opts *o, const char *title,
				       bool (*landed)(const struct mg_async_run *r))
{
	unsigned int n = ta->nruns++;
	struct mg_async_run *r = &ta->run[n];
	struct mg_journey *j = &ta->journey[n];
	int round;

	for (round = 0; round < 3; round++) {
		if (round)
			mg_async_free(r);
		mg_async_traced(t->fd, o, r, ta->tracing ? &ta->tr : NULL, j);
		mg_sys_add(&t->extra, &r->child_sys);
		if (r->err || landed(r))
			break;
		out_say("(the interrupt did not land on the spinner this time; it is arbitrary, so again)");
	}
	ta->panel[n] = (struct mg_svg_panel){ title, r, j, o->bystander };
	if (r->err) {
		if (mg_unsupported(r->err))
			tour_unavailable(t, MODEGATE_IOC_ASYNC_SUBMIT, r->err);
		else
			out_claim(false, "%s failed: %s", r->failed, strerror(-r->err));
		return NULL;
	}
	mg_async_table(r);
	if (ta->tracing) {
		out_say("   its trace events (a private tracefs instance):");
		mg_trace_snapshot(&ta->tr, tour_trace_line, ta);
	}
	return r;
}

static void step_async_concurrent(struct tour *t, struct tour_async *ta,
				  const struct mg_async_opts *o)
{
	bool before_irq = true, origin_ok = true;
	struct mg_async_run *r;
	unsigned int i;
	char a[32];

	out_say("1. Submit four reads (one per delivering strategy) and return at once; a busy");
	out_say("   process, mg-spinner, is pinned to the CPU where the device interrupt fires.");
	r = tour_async(t, ta, o, "1. Four reads, one per delivering strategy; mg-spinner busy where the interrupt fires",
		       mg_hit_other);
	if (!r)
		return;
	mg_async_header(o, r);
	mg_fmt_ns(a, sizeof(a), r->submit_ns);
	for (i = 0; i < r->nr_comps; i++) {
		const struct modegate_async_completion *c = &r->comps[i];

		if (!c->t_irq_ns || c->t_irq_ns < r->submit_end_ns)
			before_irq = false;
		if (c->result != (int64_t)o->len || c->origin_tgid != r->origin)
			origin_ok = false;
	}
	out_claim(r->nr_comps == o->nr && before_irq,
		  "the submit returned (after %s) before any interrupt fired: the read went on without the caller",
		  a);
	out_claim(mg_hit_other(r),
		  "the interrupt ran on an arbitrary thread of another process (see 'interrupted')");
	out_claim(origin_ok && r->verified == (int)r->nr_comps && r->delivered == (int)r->nr_comps,
		  "every buffer of the originating process got the data, byte for byte, through its captured address space");
}

static void step_async_naive(struct tour *t, struct tour_async *ta,
			     const struct mg_async_opts *o)
{
	const struct modegate_async_completion *c;
	struct mg_async_run *r;

	out_say("2. The same read with NAIVE: the module only reports what a driver that wrote");
	out_say("   to the user address from the interrupt would have hit.");
	r = tour_async(t, ta, o, "2. NAIVE: where a raw write from the interrupt would have landed",
		       mg_hit_other);
	if (!r || !r->nr_comps)
		return;
	c = &r->comps[0];
	if (c->irq_tgid && c->irq_tgid != c->origin_tgid)
		out_say("   A raw write to %#llx would have landed in pid %d (%.16s), not in %d.",
			(unsigned long long)r->reqs[0].buf, c->irq_tgid, c->irq_comm, c->origin_tgid);
	out_claim(c->result == -EXDEV && r->verified == 1,
		  "NAIVE wrote nothing (%s) and the originator's buffer is untouched",
		  c->result < 0 ? strerrorname_np(-c->result) ? : "?" : "no error");
}

static void step_async_bystander(struct tour *t, struct tour_async *ta,
				 const struct mg_async_opts *o)
{
	struct mg_async_run *r;

	out_say("3. The bystander: what the careless driver does to an innocent process.");
	if (!(t->info.features & MODEGATE_FEAT_BYSTANDER)) {
		out_str("bystander_demo", "disabled");
		out_comment("'modegate tour --bystander' as root reloads with allow_wrong_process_demo=1");
		return;
	}
	r = tour_async(t, ta, o, "3. The careless driver's write lands in the bystander", mg_hit_bystander);
	if (!r)
		return;
	out_bool("bystander_written", r->bystander_changed);
	if (r->bystander_changed)
		out_str("bystander_saw", "\"%s\"", r->bystander_saw);
	out_claim(r->nr_comps && (r->comps[0].ctx_flags & MODEGATE_CTX_WRONG_PROCESS) &&
		  r->bystander_changed,
		  "the data landed in the bystander (pid %d), at the same virtual address, in the wrong address space",
		  r->spinner);
	out_claim(r->verified == 1, "the originator, who asked for the data, never got it");
}

/* The step's journeys as one picture in t->svg_dir, if asked for. */
static void tour_async_svg(struct tour *t, struct tour_async *ta)
{
	char path[600];
	int ret;

	if (!t->svg_dir)
		return;
	snprintf(path, sizeof(path), "%s/async.svg", t->svg_dir);
	ret = ta->tracing ? mg_svg_write(path, ta->panel, ta->nruns) : -ENODEV;
	out_claim(!ret, "the journeys are drawn in %s%s%s", path, ret ? ": " : "",
		  ret ? strerror(-ret) : "");
	if (!ret)
		out_str("svg", "%s", path);
}

static void step_async(struct tour *t)
{
	struct mg_async_opts o = {
		.nr = 4, .strategy = 0, .latency_ns = 200000000, .cpu = MODEGATE_CPU_ANY,
		.len = 64, .spinner = true,
	};
	struct tour_async ta = { 0 };
	unsigned int i;

	ta.tracing = !mg_trace_start(&ta.tr, false);
	out_object("concurrent", NULL);
	step_async_concurrent(t, &ta, &o);
	out_close();
	o.nr = 1;
	o.strategy = MODEGATE_STRAT_NAIVE;
	out_object("naive", NULL);
	step_async_naive(t, &ta, &o);
	out_close();
	o.bystander = true;
	o.req_flags = MODEGATE_REQ_DEMO_WRONG_PROCESS;
	out_object("bystander", NULL);
	step_async_bystander(t, &ta, &o);
	out_close();
	if (ta.tracing)
		mg_trace_stop(&ta.tr);
	out_u64("trace_events", ta.trace_lines);
	tour_async_svg(t, &ta);
	for (i = 0; i < ta.nruns; i++)
		mg_async_free(&ta.run[i]);
}

static const struct tour_step tour_steps[] = {
	{ "modes", "Two modes: the tool at ring 3, the kernel at ring 0", "user and kernel mode",
	  "The CPU runs applications in user mode and the kernel in kernel mode.", step_modes },
	{ "syscalls", "System calls are the door", "system calls",
	  "User code enters kernel mode only through a system call.", step_syscalls },
	{ "private", "Each process has a private virtual address space",
	  "virtual address spaces",
	  "One process cannot see or change another's memory.", step_private },
	{ "scatter", "A contiguous virtual range on scattered 4 KiB pages",
	  "virtual address spaces",
	  "Virtual addresses are translated page by page.", step_scatter },
	{ "split", "User space ends at TASK_SIZE; the kernel's half is out of reach",
	  "the user/kernel split",
	  "A user process cannot touch addresses reserved for the kernel.", step_split },
	{ "validate", "The kernel must validate everything it is given",
	  "copying across the boundary",
	  "A kernel-mode bug is an outage; bad user input must be an error.", step_validate },
	{ "async", "An asynchronous read completes on an arbitrary thread",
	  "the asynchronous read",
	  "The interrupt runs in whatever process is current; the data must go to the originator's address space.",
	  step_async },
};

#define TOUR_NSTEPS ((int)MG_ARRAY_SIZE(tour_steps))

/* ---- the frame around every step ---- */

static bool tour_stats(struct tour *t, struct modegate_stats *st)
{
	/* Uncounted: the tour's bookkeeping is not part of the step. */
	memset(st, 0, sizeof(*st));
	if (!ioctl(t->fd, MODEGATE_IOC_STATS, st)) {
		t->stats_by_ioctl = true;
		return true;
	}
	t->stats_by_ioctl = false;
	return !mg_get_stats(-1, st);
}

static void tour_crossings(struct tour *t)
{
	struct mg_syscalls s = mg_sys;
	struct modegate_stats after;
	long d_ioctl, d_read, d_write;

	mg_sys_add(&s, &t->extra);
	out_say("system calls to the device: open %lu, close %lu, read %lu, write %lu, ioctl %lu = %lu user->kernel transitions",
		s.open, s.close, s.read, s.write, s.ioctl, mg_sys_total(&s));
	if (out_is_json()) {
		out_object("syscalls", NULL);
		out_u64("open", s.open);
		out_u64("close", s.close);
		out_u64("read", s.read);
		out_u64("write", s.write);
		out_u64("ioctl", s.ioctl);
		out_u64("total", mg_sys_total(&s));
	}
	if (!t->stats_ok || !tour_stats(t, &after)) {
		if (out_is_json())
			out_close();
		out_say("(the module's counters are not readable: no cross-check)");
		return;
	}
	d_ioctl = after.ioctls - t->st_before.ioctls - t->stats_by_ioctl;
	d_read = after.reads - t->st_before.reads;
	d_write = after.writes - t->st_before.writes;
	if (out_is_json()) {
		out_s64("module_ioctls", d_ioctl);
		out_s64("module_reads", d_read);
		out_s64("module_writes", d_write);
		out_close();
	}
	out_claim(d_ioctl == (long)s.ioctl && d_write == (long)s.write &&
		  d_read == (long)(s.read - t->vfs_refused_reads),
		  "the module counted the same crossings: %ld ioctl, %ld read, %ld write%s",
		  d_ioctl, d_read, d_write,
		  t->vfs_refused_reads ? " (the read the VFS refused never reached it)" : "");
}

static bool tour_step(struct tour *t, int i)
{
	const struct tour_step *s = &tour_steps[i];
	unsigned int failed = out_claims_failed();
	struct mg_kmsg k;
	char title[160];
	int splats = 0, lines;

	snprintf(title, sizeof(title), "%s== Step %d/%d: %s%s", out_c(OUT_CYAN), i + 1,
		 TOUR_NSTEPS, s->title, out_c(OUT_RESET));
	out_object(NULL, title);
	if (out_is_json()) {
		out_u64("step", i + 1);
		out_str("name", "%s", s->name);
		out_str("title", "%s", s->title);
		out_str("see", "modegate(7): %s", s->see);
	}
	out_say("%s (modegate(7): %s)", s->lesson, s->see);

	t->unavailable = false;
	t->vfs_refused_reads = 0;
	memset(&t->extra, 0, sizeof(t->extra));
	mg_kmsg_mark(&k);
	t->stats_ok = tour_stats(t, &t->st_before);
	memset(&mg_sys, 0, sizeof(mg_sys));

	s->run(t);

	tour_crossings(t);
	out_say("kernel log lines of the step (/dev/kmsg):");
	lines = mg_kmsg_collect(&k, "dmesg", false, &splats);
	if (lines < 0)
		out_say("  (the kernel log is not readable here)");
	else if (!lines)
		out_say("  (none)");
	mg_kmsg_close(&k);
	out_claim(!splats, "no oops, BUG or WARNING in the kernel log: the kernel survived the step");
	if (out_is_json()) {
		out_bool("unavailable", t->unavailable);
		out_bool("passed", out_claims_failed() == failed);
	}
	out_close();
	return out_claims_failed() == failed;
}

/* Module parameters as "k=v ..." for a reload, with @extra appended. */
static void tour_params(char *buf, size_t len, const char *extra)
{
	static const char *const names[] = { MG_MODULE_PARAMS };
	char v[64];
	unsigned int i;

	*buf = 0;
	for (i = 0; i < MG_ARRAY_SIZE(names); i++)
		if ((!extra || strncmp(extra, names[i], strlen(names[i]))) &&
		    !mg_param_read(names[i], v, sizeof(v)))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s=%s", *buf ? " " : "",
				 names[i], v);
	if (extra)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", *buf ? " " : "", extra);
}

static void tour_on_signal(int sig)
{
	mg_restore_all();
	_exit(128 + sig);
}

static int tour_list(void)
{
	int i;

	out_array("steps", "");
	for (i = 0; i < TOUR_NSTEPS; i++)
		out_str(NULL, "%d %-9s %s (modegate(7): %s)", i + 1, tour_steps[i].name,
			tour_steps[i].title, tour_steps[i].see);
	out_close();
	return out_end(MG_EXIT_OK);
}

/*
 * --bystander: reload the module with allow_wrong_process_demo=1 unless it
 * is on; @restore (empty if nothing to put back) gets the old parameters.
 */
static void tour_enable_bystander(struct tour *t, char *restore, size_t len)
{
	char on[8] = "", params[600];
	int ret;

	mg_param_read("allow_wrong_process_demo", on, sizeof(on));
	if (!strcmp(on, "Y") || !strcmp(on, "1"))
		return;
	tour_params(restore, len, NULL);
	tour_params(params, sizeof(params), "allow_wrong_process_demo=1");
	ret = t->root ? mg_reload(params) : -EPERM;
	if (ret) {
		out_error(-ret, "reloading the module with allow_wrong_process_demo=1",
			  "--bystander needs root, the module loaded and " MG_DEV " closed");
		restore[0] = 0;
	} else {
		out_str("reloaded_with", "%s", params);
	}
}

/* Every step, or step @only. */
static void tour_steps_run(struct tour *t, int only, int *ran, int *passed)
{
	int i;

	out_array("steps", "");
	for (i = 0; i < TOUR_NSTEPS; i++) {
		if (only && only != i + 1)
			continue;
		(*ran)++;
		*passed += tour_step(t, i);
	}
	out_close();
}

/* The command line into @t, @only and @list; 0 or the usage exit code. */
static int tour_parse(int argc, char **argv, struct tour *t, int *only, bool *list)
{
	static const struct option opts[] = {
		{ "step", required_argument, NULL, 's' },
		{ "bystander", no_argument, NULL, 'b' },
		{ "list", no_argument, NULL, 'l' },
		{ "svg", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	while ((c = mg_getopt(argc, argv, &mg_cmd_tour, "s:blg:", opts)) != -1) {
		if (c == 's' && (mg_parse_u64(optarg, &v) || v < 1 || v > TOUR_NSTEPS))
			return mg_usage_error(&mg_cmd_tour, "--step is 1 to %d", TOUR_NSTEPS);
		if (c == 's')
			*only = v;
		else if (c == 'b')
			t->bystander = true;
		else if (c == 'l')
			*list = true;
		else if (c == 'g')
			t->svg_dir = optarg;
	}
	if (t->svg_dir && mkdir(t->svg_dir, 0755) && errno != EEXIST)
		return mg_usage_error(&mg_cmd_tour, "--svg %s: %s", t->svg_dir, strerror(errno));
	if (optind < argc)
		return mg_usage_error(&mg_cmd_tour, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static int tour_run(int argc, char **argv)
{
	struct tour t = { .fd = -1 };
	char restore_params[512] = "";
	int c, only = 0, ret, passed = 0, ran = 0;
	bool list = false;

	c = tour_parse(argc, argv, &t, &only, &list);
	if (c)
		return c;
	out_begin();
	if (list)
		return tour_list();
	t.root = geteuid() == 0;
	signal(SIGINT, tour_on_signal);
	signal(SIGTERM, tour_on_signal);

	if (t.bystander)
		tour_enable_bystander(&t, restore_params, sizeof(restore_params));
	t.fd = mg_dev_open(O_RDWR);
	if (t.fd < 0)
		return out_end(MG_EXIT_NODEV);
	ret = mg_get_info(t.fd, &t.info);
	if (ret) {
		mg_sys_close(t.fd);
		return out_end(mg_ioc_fail(MODEGATE_IOC_INFO, ret));
	}
	if (mg_set_restorable(MG_PARAMS "/trace", "1"))
		out_say("(the module parameter trace is not writable here: no per-crossing log lines)");
	else
		out_str("trace_param", "1 for the tour (restored afterwards)");

	tour_steps_run(&t, only, &ran, &passed);
	mg_restore_all();
	mg_sys_close(t.fd);
	if (restore_params[0]) {
		ret = mg_reload(restore_params);
		if (ret)
			out_error(-ret, "reloading the module with its previous parameters", "%s",
				  restore_params);
	}
	out_u64("steps_run", ran);
	out_u64("steps_passed", passed);
	out_u64("claims_failed", out_claims_failed());
	out_bool("passed", !out_claims_failed());
	out_say("%s%d of %d steps held on this machine.%s", out_c(OUT_BOLD), passed, ran,
		out_c(OUT_RESET));
	return out_end(out_claims_failed() ? MG_EXIT_FAIL : MG_EXIT_OK);
}

MG_COMMAND(tour, "[--step N] [--bystander] [--svg DIR] [--list]",
	   "a guided walk through user and kernel mode, measured live",
	   "  -s, --step N     run step N only (1 to 7; --list names them)\n"
	   "  -b, --bystander  as root: reload the module with allow_wrong_process_demo=1\n"
	   "                   for the tour (and back afterwards), to show a careless\n"
	   "                   driver writing into the wrong process\n"
	   "      --svg DIR    draw the async step's requests (from their trace events)\n"
	   "                   as DIR/async.svg: a lane per CPU, the tasks on it, and\n"
	   "                   each request's submit, interrupt, delivery and reap\n"
	   "  -l, --list       list the steps\n"
	   "Each step demonstrates one idea of modegate(7), prints what it did,\n"
	   "what it measured, the system calls it made to the device (checked against\n"
	   "the module's counters) and the kernel log lines it caused, and asserts its\n"
	   "claims.  Exit 1 when a claim does not hold on this machine.\n");
