// SPDX-License-Identifier: GPL-2.0
/*
 * mgrunas UID GID PROG [ARGS...] - run PROG with only that uid and gid (the
 * VM's busybox has no setpriv --reuid).
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: mgrunas UID GID PROG [ARGS...]\n");
		return 2;
	}
	if (setgroups(0, NULL) || setgid(atoi(argv[2])) || setuid(atoi(argv[1]))) {
		perror("mgrunas");
		return 1;
	}
	execvp(argv[3], argv + 3);
	perror("mgrunas: exec");
	return 127;
}
