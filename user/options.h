/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef VNAT_OPTIONS_H
#define VNAT_OPTIONS_H

/*
 * One declarative table per command (args.c) drives its getopt parser, its
 * usage text, the bash completion and the man page's SYNOPSIS and OPTIONS.
 * The global options (-j, -p, -v, -h) are one more table, owned here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct option;

/* -j, -p and -v, before the command or after it. */
struct vnat_global_opts {
	bool json;
	bool pretty; /* implies json */
	bool verbose;
};

/* What the command line asked for; written only by the option parser. */
const struct vnat_global_opts *vnat_options__globals(void);
#define vnat_opts (*vnat_options__globals())

enum vnat_opt_flags {
	VNAT_OPT_HELP = 1 << 0, /* print the command's usage: the parse returns 1 */
	VNAT_OPT_NAT = 1 << 1, /* load: a NAT option (needs --snat or --masquerade) */
};

struct vnat_optspec {
	const char *lng; /* without the dashes; NULL ends a table */
	char shrt; /* the letter, or 0 */
	/* Its value: a metavar (IFACE and FILE are completed as such) or the
	 * choices "a|b|c"; NULL: a flag. */
	const char *arg;
	const char *help; /* the usage text's, one sentence, wrapped when printed */
	/* The man page's (markdown; NULL: help). No build-dependent text:
	 * the committed page is compared with it. */
	const char *doc;
	int (*set)(void *opts, const char *arg); /* 0, or -EINVAL with the message printed */
	unsigned int flags;
};

struct vnat_cmdspec {
	const char *name; /* NULL: vnat itself, before the command */
	const char *summary; /* its line in 'vnat --help' */
	/* After "vnat NAME": options and operands, '\n' between forms. Words
	 * starting with '-' are options, upper-case words operands, a|b
	 * choices, other lower-case words literal keywords. */
	const char *synopsis;
	const char *about; /* the usage's paragraphs, '\n' between */
	const char *verbose; /* -v's usage text here; NULL: the global one */
	const char *man_intro; /* the man page's paragraph before its options */
	const char *words; /* literal operands the shell completes ("flush") */
	bool file_operand; /* its operand is a file name */
	const struct vnat_optspec *opts; /* NULL: none of its own */
};

/* One parse: what the caller may need besides the opts the setters wrote. */
struct vnat_parsed {
	struct vnat_global_opts given; /* the global options among these words */
	unsigned int flags; /* the flags of the options given, OR-ed */
	int next; /* index of the first operand in argv */
};

/*
 * Parse argv (argv[0]: the command's name) with cmd's table and the global
 * one, up to the first operand. 0, 1 when -h printed the usage, or -EINVAL
 * with one line printed. Global options found in the process's own command
 * line (the one vnat_options__parse_main() saw) are the process's; words
 * built by vnat itself (a configuration section, apply's loads) change
 * nothing global.
 */
int vnat_options__parse(const struct vnat_cmdspec *cmd, int argc, char **argv, void *opts,
			struct vnat_parsed *p);
/* The process's command line, before the command (cmd: vnat's own table). */
int vnat_options__parse_main(const struct vnat_cmdspec *cmd, int argc, char **argv, void *opts,
			     struct vnat_parsed *p);
/* -EINVAL with a message when argv holds words from index next on. */
int vnat_options__no_operands(const char *cmd, int argc, char **argv, int next);

/* The global table (ended by lng NULL). */
extern const struct vnat_optspec vnat_options__global[];

/* getopt_long's view of a table: longopts (n entries at most) and optstring. */
#define VNAT_OPTIONS_MAX 40
int vnat_options__getopt(const struct vnat_cmdspec *cmd, struct option *longopts, size_t n,
			 char *optstring, size_t len);
/* The table entry behind getopt_long's return value, NULL if none. */
const struct vnat_optspec *vnat_options__by_val(const struct vnat_cmdspec *cmd, int val);
/* An option of the command's own table by long name, NULL if none. */
const struct vnat_optspec *vnat_options__find(const struct vnat_cmdspec *cmd, const char *lng);
size_t vnat_options__count(const struct vnat_optspec *opts);

/* optdoc.c: the usage text, the man page's sections. */
void vnat_optdoc__usage(FILE *out, const struct vnat_cmdspec *cmd);
void vnat_optdoc__man_synopsis(FILE *out);
void vnat_optdoc__man_options(FILE *out);

#endif
