// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The option tables (user/args.c, user/options.c) and what is written from
 * them: getopt_long's longopts and optstring, every command's usage, the
 * bash completion and the man page's SYNOPSIS and OPTIONS each hold every
 * option of the table; the global options are taken after every command
 * and count for the process only on its own command line.
 */
#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "args.h"
#include "completion.h"
#include "log.h"
#include "options.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

/* vnat's own table, then every command's. */
static const struct vnat_cmdspec *table(size_t i)
{
	return i ? vnat_args__cmds[i - 1] : &vnat_args__main;
}

#define EACH_TABLE(i, cmd) for (size_t i = 0; (cmd = table(i)) != NULL; i++)

static const char *name_of(const struct vnat_cmdspec *cmd)
{
	return cmd->name ? cmd->name : "vnat";
}

/* What writer(out, arg) prints, in a buffer freed by the caller. */
static char *written(void (*writer)(FILE *out, const void *arg), const void *arg)
{
	/* static: gcc takes the stream's buffer for one on this stack frame */
	static char *text;
	static size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	writer(f, arg);
	fclose(f);
	return text;
}

static void write_usage(FILE *out, const void *cmd)
{
	vnat_optdoc__usage(out, cmd);
}

static void write_completion(FILE *out, const void *arg)
{
	(void)arg;
	vnat_completion__bash(out);
}

static void write_man_options(FILE *out, const void *arg)
{
	(void)arg;
	vnat_optdoc__man_options(out);
}

static void write_man_synopsis(FILE *out, const void *arg)
{
	(void)arg;
	vnat_optdoc__man_synopsis(out);
}

/* word as a whole word in text: not a prefix of a longer option. */
static const char *find_word(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		char after = p[n];

		if (!(after >= 'a' && after <= 'z') && after != '-')
			return p;
	}
	return NULL;
}

static void assert_has(const char *what, const char *text, const char *word)
{
	if (!find_word(text, word))
		print_error("%s lacks \"%s\"\n", what, word);
	assert_non_null(find_word(text, word));
}

/* --- getopt_long's tables ------------------------------------------------ */

static void check_getopt(const struct vnat_cmdspec *cmd)
{
	struct option lo[VNAT_OPTIONS_MAX];
	char optstring[2 * VNAT_OPTIONS_MAX + 3];
	size_t n_own = vnat_options__count(cmd->opts);
	size_t n_glob = vnat_options__count(vnat_options__global);
	size_t n = 0;

	assert_int_equal(
		vnat_options__getopt(cmd, lo, VNAT_OPTIONS_MAX, optstring, sizeof(optstring)), 0);
	assert_true(!strncmp(optstring, "+:", 2));
	while (lo[n].name)
		n++;
	assert_int_equal(n, n_own + n_glob);
	for (size_t i = 0; i < n; i++) {
		const struct vnat_optspec *o = i < n_own ? &cmd->opts[i] :
							   &vnat_options__global[i - n_own];
		char letter[3] = { o->shrt, o->arg ? ':' : '\0', '\0' };

		assert_string_equal(lo[i].name, o->lng);
		assert_int_equal(lo[i].has_arg, o->arg ? required_argument : no_argument);
		assert_null(lo[i].flag);
		/* the value getopt_long returns leads back to this entry */
		assert_ptr_equal(vnat_options__by_val(cmd, lo[i].val), o);
		if (o->shrt) {
			const char *at = strchr(optstring + 2, o->shrt);

			assert_non_null(at);
			assert_true(!strncmp(at, letter, strlen(letter)));
			assert_true(o->arg || at[1] != ':');
		} else {
			assert_true(lo[i].val >= 256);
		}
	}
	/* no letter in the optstring that is not in the table */
	for (const char *s = optstring + 2; *s; s++)
		if (*s != ':')
			assert_non_null(vnat_options__by_val(cmd, *s));
}

static void test_getopt_from_table(void **state)
{
	const struct vnat_cmdspec *cmd;

	(void)state;
	EACH_TABLE(i, cmd)
	check_getopt(cmd);
}

/* Long names and letters unique within a command, the global ones included. */
static void test_no_duplicates(void **state)
{
	const struct vnat_cmdspec *cmd;

	(void)state;
	EACH_TABLE(i, cmd)
	{
		struct option lo[VNAT_OPTIONS_MAX];
		char optstring[2 * VNAT_OPTIONS_MAX + 3];

		assert_int_equal(vnat_options__getopt(cmd, lo, VNAT_OPTIONS_MAX, optstring,
						      sizeof(optstring)),
				 0);
		for (size_t a = 0; lo[a].name; a++) {
			for (size_t b = a + 1; lo[b].name; b++) {
				if (!strcmp(lo[a].name, lo[b].name) || lo[a].val == lo[b].val)
					print_error("%s: --%s and --%s clash\n", name_of(cmd),
						    lo[a].name, lo[b].name);
				assert_string_not_equal(lo[a].name, lo[b].name);
				assert_int_not_equal(lo[a].val, lo[b].val);
			}
		}
	}
}

/* Commands do not declare -j, -p, -v or -h again: the global table owns them. */
static void test_globals_declared_once(void **state)
{
	const struct vnat_cmdspec *cmd;

	(void)state;
	EACH_TABLE(i, cmd)
	{
		for (const struct vnat_optspec *o = cmd->opts; o && o->lng; o++) {
			for (const struct vnat_optspec *g = vnat_options__global; g->lng; g++) {
				assert_string_not_equal(o->lng, g->lng);
				assert_int_not_equal(o->shrt, g->shrt);
			}
			assert_non_null(o->set);
			assert_non_null(o->help);
		}
	}
}

/* --- usage, completion, man page ------------------------------------------ */

static void check_usage(const struct vnat_cmdspec *cmd)
{
	char *usage = written(write_usage, cmd);
	char head[64], flag[16];

	snprintf(head, sizeof(head), "Usage: vnat%s%s", cmd->name ? " " : "",
		 cmd->name ? cmd->name : "");
	if (strncmp(usage, head, strlen(head)))
		print_error("usage of %s starts \"%.40s\"\n", name_of(cmd), usage);
	assert_true(!strncmp(usage, head, strlen(head)));
	assert_non_null(strstr(usage, "\n\n")); /* synopsis, then the about text */
	for (const struct vnat_optspec *o = cmd->opts; o && o->lng; o++) {
		char lng[64];

		snprintf(lng, sizeof(lng), "--%s", o->lng);
		assert_has(name_of(cmd), usage, lng);
		snprintf(flag, sizeof(flag), "  -%c, --", o->shrt);
		assert_true(!o->shrt || strstr(usage, flag));
	}
	for (const struct vnat_optspec *g = vnat_options__global; g->lng; g++) {
		snprintf(flag, sizeof(flag), "  -%c, --", g->shrt);
		assert_non_null(strstr(usage, flag));
	}
	/* every wrapped line fits a terminal */
	for (char *line = strtok(usage, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(strlen(line) <= 79);
	free(usage);
}

static void test_usage_of_every_command(void **state)
{
	const struct vnat_cmdspec *cmd;

	(void)state;
	EACH_TABLE(i, cmd)
	check_usage(cmd);
}

/* 'vnat --help' lists every command with its summary. */
static void test_usage_lists_commands(void **state)
{
	char *usage = written(write_usage, &vnat_args__main);

	(void)state;
	for (size_t i = 0; vnat_args__cmds[i]; i++) {
		char line[128];

		snprintf(line, sizeof(line), "  %-13s %s\n", vnat_args__cmds[i]->name,
			 vnat_args__cmds[i]->summary);
		assert_non_null(strstr(usage, line));
	}
	free(usage);
}

/* The part of the script for one command: from "\tNAME)\n" to ";;\n\t". */
static char *completion_case(const char *script, const char *name)
{
	char head[64];
	const char *start, *end;

	snprintf(head, sizeof(head), "\n\t%s)\n", name);
	start = strstr(script, head);
	if (!start)
		return NULL;
	end = strstr(start + strlen(head), "\t\t;;\n\t");
	assert_non_null(end);
	return strndup(start, end - start);
}

/* --lng in a pattern of the case $prev ... esac of a command's part. */
static bool in_value_case(const char *part, const char *lng)
{
	const char *start = strstr(part, "case $prev in\n"), *end = strstr(part, "\t\tesac\n");
	char pattern[64];

	assert_true(start && end);
	for (const char *sep = "|)"; *sep; sep++) {
		const char *at;

		snprintf(pattern, sizeof(pattern), "--%s%c", lng, *sep);
		at = strstr(start, pattern);
		if (at && at < end && (at[-1] == '\t' || at[-1] == '|'))
			return true;
	}
	return false;
}

static void test_completion_from_table(void **state)
{
	char *script = written(write_completion, NULL);

	(void)state;
	for (size_t i = 0; vnat_args__cmds[i]; i++) {
		const struct vnat_cmdspec *cmd = vnat_args__cmds[i];
		char *c;

		assert_has("completion's command list", script, cmd->name);
		if (!strcmp(cmd->name, "help"))
			continue; /* completes the commands */
		c = completion_case(script, cmd->name);
		if (!c)
			print_error("completion has no case for %s\n", cmd->name);
		assert_non_null(c);
		for (const struct vnat_optspec *o = cmd->opts; o && o->lng; o++) {
			char word[64];

			snprintf(word, sizeof(word), "--%s", o->lng);
			assert_has(cmd->name, c, word);
			/* an option taking a value has a case pattern: its values, or nothing */
			assert_true(!o->arg == !in_value_case(c, o->lng));
		}
		for (const struct vnat_optspec *g = vnat_options__global; g->lng; g++) {
			char word[64];

			snprintf(word, sizeof(word), "--%s", g->lng);
			assert_has(cmd->name, c, word);
		}
		free(c);
	}
	/* choices are offered as such */
	assert_non_null(strstr(script, "compgen -W \"auto tc xdp\""));
	free(script);
}

static const char *man_heading(const char *md, const char *name)
{
	char head[64];

	snprintf(head, sizeof(head), "\n**%s**:\n", name);
	return strstr(md, head);
}

/* The "**NAME**:" part of the OPTIONS section, up to the next command's. */
static char *man_part(const char *md, const char *name)
{
	const char *start = man_heading(md, name), *end = NULL;

	if (!start)
		return NULL;
	for (size_t i = 0; vnat_args__cmds[i]; i++) {
		const char *h = man_heading(start + 1, vnat_args__cmds[i]->name);

		if (h && (!end || h < end))
			end = h;
	}
	return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

static void test_man_options_from_table(void **state)
{
	char *md = written(write_man_options, NULL);

	(void)state;
	for (size_t i = 0; vnat_args__cmds[i]; i++) {
		const struct vnat_cmdspec *cmd = vnat_args__cmds[i];
		char *part = man_part(md, cmd->name);

		assert_true(!part == !cmd->opts);
		for (const struct vnat_optspec *o = cmd->opts; o && o->lng; o++) {
			char entry[128];

			/* an entry: the option on its own line, then ": " and its text */
			if (o->shrt)
				snprintf(entry, sizeof(entry), "\n**-%c**, **--%s**", o->shrt,
					 o->lng);
			else
				snprintf(entry, sizeof(entry), "\n**--%s**", o->lng);
			assert_has(cmd->name, part, entry);
			assert_non_null(strstr(strstr(part, entry), "\n: "));
		}
		free(part);
	}
	for (const struct vnat_optspec *g = vnat_options__global; g->lng; g++) {
		char entry[64];

		snprintf(entry, sizeof(entry), "\n**-%c**, **--%s**\n: ", g->shrt, g->lng);
		assert_non_null(strstr(md, entry));
	}
	free(md);
}

/*
 * Each command's synopsis names every option of its table, and every option
 * it names is one (the man page's SYNOPSIS is written from it).
 */
static void test_synopsis_matches_table(void **state)
{
	char *md = written(write_man_synopsis, NULL);
	const struct vnat_cmdspec *cmd;

	(void)state;
	assert_true(!strncmp(md, "**vnat** ", 9));
	EACH_TABLE(i, cmd)
	{
		const char *s = cmd->synopsis;
		char head[64];

		for (const struct vnat_optspec *o = cmd->opts; o && o->lng; o++) {
			char lng[64], letter[3] = { '-', o->shrt, '\0' };

			snprintf(lng, sizeof(lng), "--%s", o->lng);
			if (!find_word(s, lng) && !(o->shrt && strstr(s, letter)))
				print_error("%s's synopsis lacks %s\n", name_of(cmd), lng);
			assert_true(find_word(s, lng) || (o->shrt && strstr(s, letter)));
		}
		for (const char *p = strchr(s, '-'); p; p = strchr(p + 1, '-')) {
			char lng[64];

			if (p > s && p[-1] != ' ' && p[-1] != '[' && p[-1] != '{' && p[-1] != '|')
				continue; /* inside a word: SUB-OPERATION */
			if (p[1] != '-') {
				assert_non_null(vnat_options__by_val(cmd, p[1]));
				continue;
			}
			snprintf(lng, sizeof(lng), "%.*s",
				 (int)strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-"), p + 2);
			if (!vnat_options__find(cmd, lng))
				print_error("%s's synopsis names --%s, not in its table\n",
					    name_of(cmd), lng);
			assert_non_null(vnat_options__find(cmd, lng));
			p++;
		}
		if (!cmd->name)
			continue;
		snprintf(head, sizeof(head), "\n**vnat %s**", cmd->name);
		assert_non_null(strstr(md, head));
	}
	free(md);
}

/* --- the global options ---------------------------------------------------- */

/* -j, -p, -v after every command, as before it; and -h prints its usage. */
static void test_globals_after_every_command(void **state)
{
	struct vnat_load_opts load;
	struct vnat_unload_opts unload;
	struct vnat_daemon_opts daemon;
	struct vnat_apply_opts apply;
	struct vnat_libvirt_opts libvirt;
	struct vnat_show_opts show;
	int next;

	(void)state;
	assert_int_equal(vnat_args__parse_load(ARGC("load", "-i", "br1", "-j", "-v"),
					       ARGV("load", "-i", "br1", "-j", "-v"), &load),
			 0);
	assert_int_equal(
		vnat_args__parse_unload(ARGC("unload", "-p"), ARGV("unload", "-p"), &unload), 0);
	assert_int_equal(vnat_args__parse_daemon(ARGC("daemon", "--json", "--verbose"),
						 ARGV("daemon", "--json", "--verbose"), &daemon),
			 0);
	assert_true(daemon.verbose);
	assert_int_equal(vnat_args__parse_apply(ARGC("apply", "-v", "/x"),
						ARGV("apply", "-v", "/x"), &apply),
			 0);
	assert_string_equal(apply.file, "/x");
	assert_int_equal(vnat_args__parse_libvirt(ARGC("libvirt-hook", "-v", "n", "started"),
						  ARGV("libvirt-hook", "-v", "n", "started"),
						  &libvirt),
			 0);
	assert_int_equal(
		vnat_args__parse_show(ARGC("conns", "-p"), ARGV("conns", "-p"), "conns", &show), 0);
	assert_true(show.json && show.pretty && !show.verbose);
	assert_int_equal(vnat_args__parse_words("completion", ARGC("completion", "-j", "bash"),
						ARGV("completion", "-j", "bash"), &next),
			 0);
	assert_int_equal(next, 2);
	/* a configuration section's words are load's own options only */
	assert_null(vnat_options__find(vnat_args__cmd("load"), "verbose"));
	assert_non_null(vnat_options__find(vnat_args__cmd("load"), "masquerade"));
}

/*
 * The process's global options: from its command line, before the command
 * and after it; words vnat builds itself (a configuration section loaded by
 * apply) change nothing. Runs last: it turns JSON errors on.
 */
static void test_globals_of_the_command_line(void **state)
{
	static char *cmdline[] = { "vnat", "-p", "status", "-v", NULL };
	struct vnat_main_opts m;
	struct vnat_show_opts show;
	struct vnat_load_opts load;

	(void)state;
	assert_false(vnat_opts.json || vnat_opts.pretty || vnat_opts.verbose);
	/* earlier tests parsed -j and -v outside a command line: nothing kept */
	assert_int_equal(vnat_args__parse_main(4, cmdline, &m), 0);
	assert_int_equal(m.next, 2);
	assert_false(m.version);
	assert_true(vnat_opts.json && vnat_opts.pretty);
	assert_false(vnat_opts.verbose);
	assert_true(vnat_log_json());
	assert_int_equal(vnat_args__parse_show(2, cmdline + 2, "status", &show), 0);
	assert_true(vnat_opts.verbose);
	assert_true(show.verbose && !show.json);
	/* apply's load of a section: not the command line */
	assert_int_equal(vnat_args__parse_load(ARGC("load", "--iface", "br1"),
					       ARGV("load", "--iface", "br1"), &load),
			 0);
	assert_true(vnat_opts.json && vnat_opts.pretty && vnat_opts.verbose);
	vnat_log_init(false, false);
}

static void test_version_before_the_command_only(void **state)
{
	static char *cmdline[] = { "vnat", "-V", NULL };
	struct vnat_main_opts m;
	struct vnat_show_opts show;

	(void)state;
	assert_int_equal(vnat_args__parse_main(2, cmdline, &m), 0);
	assert_true(m.version);
	assert_int_equal(vnat_args__parse_show(ARGC("status", "-V"), ARGV("status", "-V"), "status",
					       &show),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getopt_from_table),
		cmocka_unit_test(test_no_duplicates),
		cmocka_unit_test(test_globals_declared_once),
		cmocka_unit_test(test_usage_of_every_command),
		cmocka_unit_test(test_usage_lists_commands),
		cmocka_unit_test(test_completion_from_table),
		cmocka_unit_test(test_man_options_from_table),
		cmocka_unit_test(test_synopsis_matches_table),
		cmocka_unit_test(test_globals_after_every_command),
		cmocka_unit_test(test_version_before_the_command_only),
		cmocka_unit_test(test_globals_of_the_command_line),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL) ? 1 : 0;
}
