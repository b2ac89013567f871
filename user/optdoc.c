// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The usage text of vnat and of each command, and the man page's SYNOPSIS
 * and OPTIONS sections (markdown for go-md2man), written from the option
 * tables: what --help says and the page shows is what the parser takes.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "args.h"
#include "options.h"

#define WIDTH 79
#define HELP_COL 22 /* where an option's help starts in the usage */
#define MAN_WIDTH 79

/*
 * Markdown would read a line starting with these as a list, a heading, a
 * quote or a table: a wrapped line never starts with one.
 */
static bool md_may_start_line(const char *word)
{
	return !strchr("-+#>|", word[0]) && !isdigit((unsigned char)word[0]);
}

/* Length of the words from p up to the next place a line may break. */
static size_t unbreakable(const char *p, bool (*may_break)(const char *word))
{
	size_t n = strcspn(p, " ");

	while (may_break && p[n] == ' ' && p[n + 1] && !may_break(p + n + 1))
		n += 1 + strcspn(p + n + 1, " ");
	return n;
}

/*
 * Words of text from column col, lines of at most width, continued at
 * indent. A break goes only where may_break() allows, unless a line would
 * overflow without one.
 */
static void wrap(FILE *out, const char *text, int col, int indent, int width,
		 bool (*may_break)(const char *word))
{
	const char *p = text;
	bool first = true;

	while (*p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (!n)
			break;
		if (!first && (!may_break || may_break(p)) &&
		    col + 1 + (int)unbreakable(p, may_break) > width) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)n, p);
		col += n;
		p += n;
		first = false;
	}
}

/* Usage synopses break before an optional group where they can. */
static bool group_starts(const char *word)
{
	return word[0] == '[' || word[0] == '{';
}

static const char *cmd_words(const struct vnat_cmdspec *cmd)
{
	return cmd->name ? cmd->name : "";
}

/* "vnat NAME form" for each '\n'-separated form; the first after "Usage: ". */
static void usage_synopsis(FILE *out, const struct vnat_cmdspec *cmd)
{
	const char *form = cmd->synopsis ? cmd->synopsis : "";

	for (bool first = true;; first = false) {
		size_t n = strcspn(form, "\n");
		char line[1024];
		int col;

		snprintf(line, sizeof(line), "%.*s", (int)n, form);
		col = fprintf(out, "%s%s%s", first ? "Usage: vnat" : "       vnat",
			      cmd->name ? " " : "", cmd_words(cmd));
		if (*line)
			fputc(' ', out);
		wrap(out, line, col + !!*line, col + 1, WIDTH, group_starts);
		fputc('\n', out);
		if (!form[n])
			break;
		form += n + 1;
	}
}

static void paragraphs(FILE *out, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");
		char par[2048];

		snprintf(par, sizeof(par), "%.*s", (int)n, text);
		wrap(out, par, 0, 0, WIDTH, NULL);
		fputc('\n', out);
		text += n + !!text[n];
	}
}

/* "  -i, --iface IFACE   help", the help wrapped at HELP_COL. */
static void usage_option(FILE *out, const struct vnat_optspec *o, const char *help)
{
	int col = fprintf(out, "  %c%c%s--%s%s%s", o->shrt ? '-' : ' ', o->shrt ? o->shrt : ' ',
			  o->shrt ? ", " : "  ", o->lng, o->arg ? " " : "", o->arg ? o->arg : "");

	if (col >= HELP_COL) {
		fprintf(out, "\n%*s", HELP_COL, "");
		col = HELP_COL;
	}
	fprintf(out, "%*s", HELP_COL - col, "");
	wrap(out, help, HELP_COL, HELP_COL, WIDTH, NULL);
	fputc('\n', out);
}

static void usage_commands(FILE *out)
{
	fprintf(out, "\nCommands:\n");
	for (const struct vnat_cmdspec *const *c = vnat_args__cmds; *c; c++)
		fprintf(out, "  %-13s %s\n", (*c)->name, (*c)->summary);
}

void vnat_optdoc__usage(FILE *out, const struct vnat_cmdspec *cmd)
{
	usage_synopsis(out, cmd);
	fputc('\n', out);
	paragraphs(out, cmd->about);
	if (!cmd->name)
		usage_commands(out);
	fprintf(out, "\n%s", cmd->name ? "" : "Options:\n");
	for (const struct vnat_optspec *o = cmd->opts; o && o->lng; o++)
		usage_option(out, o, o->help);
	for (const struct vnat_optspec *o = vnat_options__global; o->lng; o++)
		usage_option(out, o, o->shrt == 'v' && cmd->verbose ? cmd->verbose : o->help);
}

/* --- the man page ----------------------------------------------------------- */

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/*
 * One word of a synopsis: options bold, operands (upper case) italic,
 * choices (a|b) plain, other lower-case words (keywords) bold.
 */
static void md_word(char *buf, size_t len, const char *w, size_t n, char before, char after)
{
	bool lower = false, upper = false;
	const char *mark = "";

	for (size_t i = 0; i < n; i++) {
		lower |= islower((unsigned char)w[i]);
		upper |= isupper((unsigned char)w[i]);
	}
	if (w[0] == '-' && n > 1)
		mark = "**";
	else if (lower && before != '|' && after != '|')
		mark = "**";
	else if (upper && !lower)
		mark = "*";
	snprintf(buf, len, "%s%.*s%s", mark, (int)n, w, mark);
}

/* A synopsis (or an option's value) in markdown, into buf. */
static void md_synopsis(char *buf, size_t len, const char *text)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const char *p = text; *p && off + 1 < len;) {
		size_t n = 0;

		while (word_char(p[n]))
			n++;
		if (n) {
			md_word(buf + off, len - off, p, n, p > text ? p[-1] : ' ', p[n]);
			off += strlen(buf + off);
			p += n;
			continue;
		}
		buf[off++] = *p++;
		buf[off] = '\0';
	}
}

/* A synopsis' markdown lines start with a group where they can. */
static bool md_group_starts(const char *word)
{
	return md_may_start_line(word) && group_starts(word);
}

static void man_form(FILE *out, const struct vnat_cmdspec *cmd, const char *form)
{
	char md[4096];
	int col;

	col = fprintf(out, "**vnat%s%s**", cmd->name ? " " : "", cmd_words(cmd));
	md_synopsis(md, sizeof(md), form);
	if (*md)
		fputc(' ', out);
	wrap(out, md, col + !!*md, 0, MAN_WIDTH, md_group_starts);
	fprintf(out, "\n\n");
}

static void man_synopsis_of(FILE *out, const struct vnat_cmdspec *cmd)
{
	const char *form = cmd->synopsis ? cmd->synopsis : "";

	for (;;) {
		size_t n = strcspn(form, "\n");
		char one[1024];

		snprintf(one, sizeof(one), "%.*s", (int)n, form);
		man_form(out, cmd, one);
		if (!form[n])
			break;
		form += n + 1;
	}
}

void vnat_optdoc__man_synopsis(FILE *out)
{
	man_synopsis_of(out, &vnat_args__main);
	for (const struct vnat_cmdspec *const *c = vnat_args__cmds; *c; c++)
		man_synopsis_of(out, *c);
}

/* "**-i**, **--iface** *IFACE*" then ": doc" wrapped. */
static void man_option(FILE *out, const struct vnat_optspec *o)
{
	char arg[256] = "";

	if (o->arg)
		md_synopsis(arg, sizeof(arg), o->arg);
	if (o->shrt)
		fprintf(out, "**-%c**, ", o->shrt);
	fprintf(out, "**--%s**%s%s\n: ", o->lng, o->arg ? " " : "", arg);
	wrap(out, o->doc ? o->doc : o->help, 2, 2, MAN_WIDTH, md_may_start_line);
	fprintf(out, "\n\n");
}

static void man_paragraph(FILE *out, const char *text)
{
	wrap(out, text, 0, 0, MAN_WIDTH, md_may_start_line);
	fprintf(out, "\n\n");
}

void vnat_optdoc__man_options(FILE *out)
{
	man_paragraph(out, "Before or after the command:");
	for (const struct vnat_optspec *o = vnat_options__global; o->lng; o++)
		man_option(out, o);
	man_paragraph(out, "Before the command:");
	for (const struct vnat_optspec *o = vnat_args__main.opts; o->lng; o++)
		man_option(out, o);
	for (const struct vnat_cmdspec *const *c = vnat_args__cmds; *c; c++) {
		if (!(*c)->opts)
			continue;
		fprintf(out, "**%s**:\n\n", (*c)->name);
		if ((*c)->man_intro)
			man_paragraph(out, (*c)->man_intro);
		for (const struct vnat_optspec *o = (*c)->opts; o->lng; o++)
			man_option(out, o);
	}
}
