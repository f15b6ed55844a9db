/* SPDX-License-Identifier: GPL-2.0 */
/*
 * modegate tracepoints (samples/trace_events style): every crossing of the
 * user/kernel boundary, every probe outcome and every step of an async
 * request's life.  CREATE_TRACE_POINTS is defined in trace.c only.
 *
 *   echo 1 > /sys/kernel/tracing/events/modegate/enable
 *   cat /sys/kernel/tracing/trace_pipe
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM modegate

#if !defined(_MODEGATE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MODEGATE_TRACE_H

#include <linux/sched.h>
#include <linux/tracepoint.h>

TRACE_EVENT(modegate_open,
	TP_PROTO(bool open, unsigned int f_flags),
	TP_ARGS(open, f_flags),
	TP_STRUCT__entry(
		__field(bool, open)
		__field(unsigned int, f_flags)
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
	),
	TP_fast_assign(
		__entry->open = open;
		__entry->f_flags = f_flags;
		__entry->pid = current->pid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),
	TP_printk("%s pid=%d comm=%s f_flags=%#x",
		  __entry->open ? "open" : "release", __entry->pid,
		  __entry->comm, __entry->f_flags)
);

TRACE_EVENT(modegate_rw,
	TP_PROTO(bool write, loff_t pos, size_t requested, ssize_t result),
	TP_ARGS(write, pos, requested, result),
	TP_STRUCT__entry(
		__field(bool, write)
		__field(loff_t, pos)
		__field(size_t, requested)
		__field(ssize_t, result)
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
	),
	TP_fast_assign(
		__entry->write = write;
		__entry->pos = pos;
		__entry->requested = requested;
		__entry->result = result;
		__entry->pid = current->pid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),
	TP_printk("%s pid=%d comm=%s off=%lld len=%zu -> %zd",
		  __entry->write ? "write" : "read", __entry->pid,
		  __entry->comm, __entry->pos, __entry->requested,
		  __entry->result)
);

TRACE_EVENT(modegate_ioctl,
	TP_PROTO(const char *name, unsigned int cmd, long result),
	TP_ARGS(name, cmd, result),
	TP_STRUCT__entry(
		__string(name, name)
		__field(unsigned int, cmd)
		__field(long, result)
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
	),
	TP_fast_assign(
		modegate_assign_str(name, name);
		__entry->cmd = cmd;
		__entry->result = result;
		__entry->pid = current->pid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),
	TP_printk("%s (%#x) pid=%d comm=%s -> %ld", __get_str(name),
		  __entry->cmd, __entry->pid, __entry->comm, __entry->result)
);

TRACE_EVENT(modegate_probe,
	TP_PROTO(u32 op, u64 addr, u64 len, u32 outcome, u64 copied),
	TP_ARGS(op, addr, len, outcome, copied),
	TP_STRUCT__entry(
		__field(u32, op)
		__field(u64, addr)
		__field(u64, len)
		__field(u32, outcome)
		__field(u64, copied)
		__field(pid_t, pid)
	),
	TP_fast_assign(
		__entry->op = op;
		__entry->addr = addr;
		__entry->len = len;
		__entry->outcome = outcome;
		__entry->copied = copied;
		__entry->pid = current->pid;
	),
	TP_printk("pid=%d %s addr=%#llx len=%llu -> %s copied=%llu",
		  __entry->pid,
		  __entry->op == MODEGATE_PROBE_TO_USER ? "to_user" : "from_user",
		  __entry->addr, __entry->len,
		  __print_symbolic(__entry->outcome,
				   { MODEGATE_PROBE_OK, "OK" },
				   { MODEGATE_PROBE_PARTIAL, "PARTIAL" },
				   { MODEGATE_PROBE_FAULT, "FAULT" },
				   { MODEGATE_PROBE_READONLY, "READONLY" },
				   { MODEGATE_PROBE_NOT_USER, "NOT_USER" },
				   { MODEGATE_PROBE_TOO_BIG, "TOO_BIG" }),
		  __entry->copied)
);

#define modegate_show_strategy(s)					\
	__print_symbolic(s, { MODEGATE_STRAT_ADOPT_MM, "ADOPT_MM" },	\
			 { MODEGATE_STRAT_PIN, "PIN" },			\
			 { MODEGATE_STRAT_REMOTE, "REMOTE" },		\
			 { MODEGATE_STRAT_BUFFERED, "BUFFERED" },	\
			 { MODEGATE_STRAT_NAIVE, "NAIVE" })

TRACE_EVENT(modegate_async_submit,
	TP_PROTO(u64 user_data, u32 strategy, int cpu, u64 len, u64 latency_ns),
	TP_ARGS(user_data, strategy, cpu, len, latency_ns),
	TP_STRUCT__entry(
		__field(u64, user_data)
		__field(u32, strategy)
		__field(int, cpu)
		__field(u64, len)
		__field(u64, latency_ns)
		__field(pid_t, tgid)
		__array(char, comm, TASK_COMM_LEN)
	),
	TP_fast_assign(
		__entry->user_data = user_data;
		__entry->strategy = strategy;
		__entry->cpu = cpu;
		__entry->len = len;
		__entry->latency_ns = latency_ns;
		__entry->tgid = current->tgid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),
	TP_printk("user_data=%llu origin_tgid=%d comm=%s strategy=%s cpu=%d len=%llu latency_ns=%llu",
		  __entry->user_data, __entry->tgid, __entry->comm,
		  modegate_show_strategy(__entry->strategy), __entry->cpu,
		  __entry->len, __entry->latency_ns)
);

/* The simulated device interrupt: whoever was running when it fired. */
TRACE_EVENT(modegate_async_irq,
	TP_PROTO(u64 user_data, u32 strategy, pid_t origin_tgid, bool mm_match),
	TP_ARGS(user_data, strategy, origin_tgid, mm_match),
	TP_STRUCT__entry(
		__field(u64, user_data)
		__field(u32, strategy)
		__field(pid_t, origin_tgid)
		__field(bool, mm_match)
		__field(int, cpu)
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
	),
	TP_fast_assign(
		__entry->user_data = user_data;
		__entry->strategy = strategy;
		__entry->origin_tgid = origin_tgid;
		__entry->mm_match = mm_match;
		__entry->cpu = smp_processor_id();
		__entry->pid = current->pid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),
	TP_printk("user_data=%llu cpu=%d interrupted pid=%d comm=%s origin_tgid=%d mm=%s strategy=%s",
		  __entry->user_data, __entry->cpu, __entry->pid, __entry->comm,
		  __entry->origin_tgid,
		  __entry->mm_match ? "origin" : "FOREIGN",
		  modegate_show_strategy(__entry->strategy))
);

TRACE_EVENT(modegate_async_deliver,
	TP_PROTO(u64 user_data, u32 strategy, u32 delivered_by, s64 result),
	TP_ARGS(user_data, strategy, delivered_by, result),
	TP_STRUCT__entry(
		__field(u64, user_data)
		__field(u32, strategy)
		__field(u32, delivered_by)
		__field(s64, result)
		__field(pid_t, pid)
		__array(char, comm, TASK_COMM_LEN)
	),
	TP_fast_assign(
		__entry->user_data = user_data;
		__entry->strategy = strategy;
		__entry->delivered_by = delivered_by;
		__entry->result = result;
		__entry->pid = current->pid;
		memcpy(__entry->comm, current->comm, TASK_COMM_LEN);
	),
	TP_printk("user_data=%llu strategy=%s by pid=%d comm=%s via=%s -> %lld",
		  __entry->user_data, modegate_show_strategy(__entry->strategy),
		  __entry->pid, __entry->comm,
		  __print_symbolic(__entry->delivered_by,
				   { MODEGATE_DELIVER_NONE, "none" },
				   { MODEGATE_DELIVER_WORKER, "adopted-mm" },
				   { MODEGATE_DELIVER_KMAP, "kmap" },
				   { MODEGATE_DELIVER_ORIGINATOR, "originator" },
				   { MODEGATE_DELIVER_BYSTANDER, "BYSTANDER" }),
		  __entry->result)
);

TRACE_EVENT(modegate_async_complete,
	TP_PROTO(u64 user_data, s64 result, bool cancelled),
	TP_ARGS(user_data, result, cancelled),
	TP_STRUCT__entry(
		__field(u64, user_data)
		__field(s64, result)
		__field(bool, cancelled)
	),
	TP_fast_assign(
		__entry->user_data = user_data;
		__entry->result = result;
		__entry->cancelled = cancelled;
	),
	TP_printk("user_data=%llu %s -> %lld", __entry->user_data,
		  __entry->cancelled ? "cancelled" : "completed",
		  __entry->result)
);

#endif /* _MODEGATE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
