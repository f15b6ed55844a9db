// SPDX-License-Identifier: GPL-2.0
/*
 * mgexec: the new image in the exec cases of the async selftests.  A
 * process submitted requests into MG_EXEC_VA and exec'd this program with
 * MG_EXEC_TX and MG_EXEC_RX open.  It maps MG_EXEC_VA again, tells the test
 * when it started (struct mg_exec_hello: the old address space was gone by
 * then), waits until the test has collected every completion, and answers
 * 'z' if nothing arrived in its new address space, 'D' if something did.
 *
 * A static program of its own, so that an exec costs only the exec: the
 * test programs link libkmod and, through it, libcrypto, whose loading took
 * 0.8 s per exec on the KASAN kernel under TCG.
 */
#include "async_test.h"

int main(void)
{
	struct mg_exec_hello hello = { .magic = MG_EXEC_MAGIC, .t_start_ns = mg_now() };
	size_t len = MG_EXEC_LEN(sysconf(_SC_PAGESIZE));
	uint8_t *b = mmap(MG_EXEC_VA, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char c;

	if (b != MG_EXEC_VA)
		return 3;
	memset(b, 0, len);
	if (write(MG_EXEC_TX, &hello, sizeof(hello)) != sizeof(hello) ||
	    mg_read_full(MG_EXEC_RX, &c, 1))
		return 4;
	c = mg_all(b, 0, len) ? 'z' : 'D';
	return write(MG_EXEC_TX, &c, 1) == 1 ? 0 : 5;
}
