// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * man-sections synopsis|options: the markdown of vnat(8)'s SYNOPSIS or
 * OPTIONS section, written from the option tables (user/args.c);
 * tools/man-sync.sh puts it between the page's markers, or checks it is.
 */
#include <stdio.h>
#include <string.h>
#include "options.h"

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "synopsis"))
		vnat_optdoc__man_synopsis(stdout);
	else if (argc == 2 && !strcmp(argv[1], "options"))
		vnat_optdoc__man_options(stdout);
	else {
		fprintf(stderr, "usage: man-sections synopsis|options\n");
		return 2;
	}
	return fflush(stdout) ? 1 : 0;
}
