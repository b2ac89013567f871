// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Command-line parsing (user/args.c) and interface checks (user/iface.c).
 *
 * Every rejected input must come back as -EINVAL with exactly one line on
 * stderr, "vnat: <command>: ...", that quotes the offending value: stderr is
 * captured around each call by pointing fd 2 at a temporary file.
 */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "netns_setup.h"
#include "args.h"
#include "iface.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

/* What the last parse printed. */
static char err_text[4096];
static char out_text[8192];

struct capture {
	int fd;
	int saved;
	FILE *tmp;
};

static void capture_begin(struct capture *c, int fd)
{
	fflush(fd == 1 ? stdout : stderr);
	c->fd = fd;
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	c->saved = dup(fd);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), fd) >= 0);
}

static void capture_end(struct capture *c, char *buf, size_t len)
{
	size_t n;

	fflush(c->fd == 1 ? stdout : stderr);
	dup2(c->saved, c->fd);
	close(c->saved);
	rewind(c->tmp);
	n = fread(buf, 1, len - 1, c->tmp);
	buf[n] = 0;
	fclose(c->tmp);
}

#define CAPTURED(call)                                         \
	({                                                     \
		struct capture ce_, co_;                       \
		int rc_;                                       \
		capture_begin(&ce_, 2);                        \
		capture_begin(&co_, 1);                        \
		rc_ = (call);                                  \
		capture_end(&co_, out_text, sizeof(out_text)); \
		capture_end(&ce_, err_text, sizeof(err_text)); \
		rc_;                                           \
	})

#define LOAD(o, ...) CAPTURED(vnat_args__parse_load(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o)))
#define UNLOAD(o, ...) CAPTURED(vnat_args__parse_unload(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o)))
static struct vnat_show_opts show;
#define NONE(...)                                                                      \
	CAPTURED(vnat_args__parse_show(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), "status", \
				       (memset(&show, 0, sizeof(show)), &show)))

/* The usage the table of cmd writes (options.h), as --help must print it. */
static const char *usage_of(const char *cmd)
{
	static char text[8192];
	FILE *f = fmemopen(text, sizeof(text), "w");

	assert_non_null(f);
	vnat_optdoc__usage(f, vnat_args__cmd(cmd));
	fclose(f);
	return text;
}

/*
 * The captured stderr is one line "vnat: ..." holding every fragment given
 * (NULL-terminated list). Printed in full when it is not.
 */
static void check_error_line(const char *first, ...)
{
	const char *nl = strchr(err_text, '\n');
	bool ok = !strncmp(err_text, "vnat: ", 6) && nl && !nl[1];
	va_list ap;

	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		if (!strstr(err_text, s)) {
			print_error("stderr lacks \"%s\"\n", s);
			ok = false;
		}
	}
	va_end(ap);
	if (!ok)
		print_error("stderr was: \"%s\"\n", err_text);
	assert_true(ok);
}

#define assert_error_line(...) check_error_line(__VA_ARGS__, NULL)

static void assert_silent(void)
{
	assert_string_equal(err_text, "");
	assert_string_equal(out_text, "");
}

/* --- load: accepted forms ------------------------------------------------ */

static void test_load_user_form(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--snat", "192.168.1.101"), 0);
	assert_silent();
	assert_int_equal(o.n_ifaces, 1);
	assert_string_equal(o.ifaces[0], "br1");
	assert_int_equal(o.mode, VNAT_MODE_NATIVE);
	assert_int_equal(o.snat_addr, inet_addr("192.168.1.101"));
}

static void test_load_defaults(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	memset(&o, 0xa5, sizeof(o)); /* the parser must clear what it does not set */
	assert_int_equal(LOAD(&o, "load", "--iface", "eth0"), 0);
	assert_silent();
	assert_int_equal(o.n_ifaces, 1);
	assert_string_equal(o.ifaces[0], "eth0");
	assert_int_equal(o.mode, VNAT_MODE_NATIVE);
	assert_int_equal(o.snat_addr, 0);
}

static void test_load_multiple_ifaces(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--iface", "tap0", "--snat", "10.0.0.1",
			      "--iface", "eth0"),
			 0);
	assert_silent();
	assert_int_equal(o.n_ifaces, 3);
	assert_string_equal(o.ifaces[0], "br1");
	assert_string_equal(o.ifaces[1], "tap0");
	assert_string_equal(o.ifaces[2], "eth0");
	assert_int_equal(o.snat_addr, inet_addr("10.0.0.1"));
}

static void test_load_modes(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--mode", "skb"), 0);
	assert_silent();
	assert_int_equal(o.mode, VNAT_MODE_SKB);
	assert_int_equal(LOAD(&o, "load", "--mode", "native", "--iface", "br1"), 0);
	assert_int_equal(o.mode, VNAT_MODE_NATIVE);
	/* The last --mode wins, and --opt=value works as in getopt_long. */
	assert_int_equal(LOAD(&o, "load", "--mode=native", "--iface=br1", "--mode=skb"), 0);
	assert_silent();
	assert_int_equal(o.mode, VNAT_MODE_SKB);
	assert_string_equal(o.ifaces[0], "br1");
}

static void test_load_short_options(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(
		LOAD(&o, "load", "-i", "br1", "-m", "skb", "-s", "192.168.1.101", "-i", "tap0"), 0);
	assert_silent();
	assert_int_equal(o.n_ifaces, 2);
	assert_string_equal(o.ifaces[0], "br1");
	assert_string_equal(o.ifaces[1], "tap0");
	assert_int_equal(o.mode, VNAT_MODE_SKB);
	assert_int_equal(o.snat_addr, inet_addr("192.168.1.101"));
	/* Values attached to the letter. */
	assert_int_equal(LOAD(&o, "load", "-ibr2", "-mnative", "-s10.1.2.3"), 0);
	assert_silent();
	assert_string_equal(o.ifaces[0], "br2");
	assert_int_equal(o.mode, VNAT_MODE_NATIVE);
	assert_int_equal(o.snat_addr, inet_addr("10.1.2.3"));
}

static void test_load_help(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--help"), 1);
	assert_string_equal(err_text, "");
	assert_true(!strncmp(out_text, "Usage: vnat load --iface IFACE", 30));
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "-h"), 1);
	assert_true(!strncmp(out_text, "Usage: vnat load", 16));
}

/* 15 characters fit IFNAMSIZ with the NUL; 32 interfaces is the limit. */
static void test_load_limits(void **state)
{
	char names[VNAT_MAX_LOAD_IFACES + 1][8];
	char *argv[2 * (VNAT_MAX_LOAD_IFACES + 1) + 2];
	struct vnat_load_opts o;
	int argc = 0;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--iface", "abcdefghijklmno"), 0);
	assert_silent();
	assert_string_equal(o.ifaces[0], "abcdefghijklmno");

	argv[argc++] = "load";
	for (int i = 0; i < VNAT_MAX_LOAD_IFACES + 1; i++) {
		snprintf(names[i], sizeof(names[i]), "tap%d", i);
		argv[argc++] = "--iface";
		argv[argc++] = names[i];
	}
	argv[argc] = NULL;
	/* All but the last: exactly the limit. */
	assert_int_equal(CAPTURED(vnat_args__parse_load(argc - 2, argv, &o)), 0);
	assert_silent();
	assert_int_equal(o.n_ifaces, VNAT_MAX_LOAD_IFACES);
	assert_string_equal(o.ifaces[VNAT_MAX_LOAD_IFACES - 1], "tap31");
	assert_int_equal(CAPTURED(vnat_args__parse_load(argc, argv, &o)), -EINVAL);
	assert_error_line("vnat: load: ", "more than 32 --iface");
}

/* Unicast addresses at the edges of the ranges --snat refuses. */
static void test_load_snat_edges_accepted(void **state)
{
	static const char *const ok[] = { "1.0.0.1", "126.255.255.255", "128.0.0.1",
					  "223.255.255.254", "192.168.1.101" };
	struct vnat_load_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc = LOAD(&o, "load", "--iface", "br1", "--snat", (char *)ok[i]);

		if (rc)
			print_error("--snat %s: rc %d, stderr \"%s\"\n", ok[i], rc, err_text);
		assert_int_equal(rc, 0);
		assert_silent();
		assert_int_equal(o.snat_addr, inet_addr(ok[i]));
	}
}

/* --- load: rejected input ------------------------------------------------ */

static void test_load_no_iface(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load"), -EINVAL);
	assert_error_line("vnat: load: ", "no interface given");
	assert_int_equal(LOAD(&o, "load", "--snat", "192.168.1.101", "--mode", "skb"), -EINVAL);
	assert_error_line("vnat: load: ", "no interface given");
}

static void test_load_unknown_option(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--bogus"), -EINVAL);
	assert_error_line("vnat: load: ", "unknown option '--bogus'");
	assert_int_equal(LOAD(&o, "load", "-x", "--iface", "br1"), -EINVAL);
	assert_error_line("vnat: load: ", "unknown option '-x'");
	/* A flag of another command. */
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--all"), -EINVAL);
	assert_error_line("vnat: load: ", "unknown option '--all'");
}

static void test_load_missing_value(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--iface"), -EINVAL);
	assert_error_line("vnat: load: ", "option '--iface' needs a value");
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--snat"), -EINVAL);
	assert_error_line("vnat: load: ", "option '--snat' needs a value");
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--mode"), -EINVAL);
	assert_error_line("vnat: load: ", "option '--mode' needs a value");
	assert_int_equal(LOAD(&o, "load", "-i"), -EINVAL);
	assert_error_line("vnat: load: ", "option '-i' needs a value");
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "-s"), -EINVAL);
	assert_error_line("vnat: load: ", "option '-s' needs a value");
}

static void test_load_mode_bogus(void **state)
{
	static const char *const bad[] = { "bogus", "NATIVE", "generic", "drv", "" };
	struct vnat_load_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "--mode '%s'", bad[i]);
		assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--mode", (char *)bad[i]),
				 -EINVAL);
		assert_error_line("vnat: load: ", quoted, "unknown XDP mode");
	}
}

/* --admission, --flush and --inbound: accepted forms, defaults, bad values. */
static void test_load_admission(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--iface", "br1"), 0);
	assert_int_equal(o.admission, VNAT_ADMISSION_AUTO);
	assert_false(o.flush);
	assert_false(o.inbound_kernel);
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--admission", "kernel", "--flush"), 0);
	assert_silent();
	assert_int_equal(o.admission, VNAT_ADMISSION_KERNEL);
	assert_true(o.flush);
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--admission", "vnat", "--snat",
			      "192.168.1.101", "--inbound", "kernel"),
			 0);
	assert_int_equal(o.admission, VNAT_ADMISSION_VNAT);
	assert_true(o.inbound_kernel);

	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--admission", "firewall"), -EINVAL);
	assert_error_line("vnat: load: ", "--admission 'firewall'", "auto, kernel or vnat");
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--snat", "192.168.1.101", "--inbound",
			      "accept"),
			 -EINVAL);
	assert_error_line("vnat: load: ", "--inbound 'accept'", "drop or kernel");
	/* A NAT option: it protects what vnat's own NAT exposes. */
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--inbound", "kernel"), -EINVAL);
	assert_error_line("vnat: load: ", "need --snat");
}

static void test_load_snat_not_ipv4(void **state)
{
	static const char *const bad[] = { "300.1.1.1",	       "::1",	     "10.1",	  "",
					   "192.168.1.101/24", "0x0a000001", "10.0.0.1 ", "br1" };
	struct vnat_load_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "--snat '%s'", bad[i]);
		assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--snat", (char *)bad[i]),
				 -EINVAL);
		assert_error_line("vnat: load: ", quoted, "not an IPv4 address");
	}
}

static void test_load_snat_unusable(void **state)
{
	static const char *const bad[] = { "0.0.0.0",	      "255.255.255.255", "224.0.0.1",
					   "239.255.255.255", "127.0.0.1",	 "127.255.255.254" };
	struct vnat_load_opts o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char quoted[64];

		snprintf(quoted, sizeof(quoted), "--snat '%s'", bad[i]);
		assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--snat", (char *)bad[i]),
				 -EINVAL);
		assert_error_line("vnat: load: ", quoted, "not a usable unicast address");
	}
}

static void test_load_duplicate_iface(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "--iface", "tap0", "-i", "br1"),
			 -EINVAL);
	assert_error_line("vnat: load: ", "--iface 'br1' given twice");
}

static void test_load_bad_iface_name(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	/* 16 characters: one more than IFNAMSIZ leaves room for. */
	assert_int_equal(LOAD(&o, "load", "--iface", "abcdefghijklmnop"), -EINVAL);
	assert_error_line("vnat: load: ", "--iface 'abcdefghijklmnop'",
			  "not a valid interface name");
	assert_int_equal(LOAD(&o, "load", "--iface", ""), -EINVAL);
	assert_error_line("vnat: load: ", "--iface ''", "not a valid interface name");
}

static void test_load_stray_argument(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "br1"), -EINVAL);
	assert_error_line("vnat: load: ", "unexpected argument 'br1'");
	assert_int_equal(LOAD(&o, "load", "--iface", "br1", "extra", "--mode", "skb"), -EINVAL);
	assert_error_line("vnat: load: ", "unexpected argument 'extra'");
}

/* getopt keeps state between calls: a parse that stopped half-way must not leak. */
static void test_load_parse_restarts(void **state)
{
	struct vnat_load_opts o;

	(void)state;
	assert_int_equal(LOAD(&o, "load", "-i"), -EINVAL);
	assert_int_equal(LOAD(&o, "load", "-xi", "br1"), -EINVAL);
	assert_int_equal(LOAD(&o, "load", "-ibr1", "-i", "br1"), -EINVAL);
	assert_int_equal(LOAD(&o, "load", "-i", "br1", "-s", "10.0.0.1"), 0);
	assert_silent();
	assert_int_equal(o.n_ifaces, 1);
	assert_string_equal(o.ifaces[0], "br1");
	assert_int_equal(o.snat_addr, inet_addr("10.0.0.1"));
}

/* --- unload -------------------------------------------------------------- */

static void test_unload_default_all(void **state)
{
	struct vnat_unload_opts o;

	(void)state;
	memset(&o, 0xa5, sizeof(o));
	assert_int_equal(UNLOAD(&o, "unload"), 0);
	assert_silent();
	assert_true(o.all);
	assert_string_equal(o.iface, "");
	assert_int_equal(UNLOAD(&o, "unload", "--all"), 0);
	assert_true(o.all);
	assert_string_equal(o.iface, "");
	assert_int_equal(UNLOAD(&o, "unload", "-a"), 0);
	assert_silent();
	assert_true(o.all);
}

static void test_unload_iface(void **state)
{
	struct vnat_unload_opts o;

	(void)state;
	assert_int_equal(UNLOAD(&o, "unload", "--iface", "br1"), 0);
	assert_silent();
	assert_false(o.all);
	assert_string_equal(o.iface, "br1");
	assert_int_equal(UNLOAD(&o, "unload", "-i", "abcdefghijklmno"), 0);
	assert_false(o.all);
	assert_string_equal(o.iface, "abcdefghijklmno");
}

static void test_unload_conflict(void **state)
{
	struct vnat_unload_opts o;

	(void)state;
	assert_int_equal(UNLOAD(&o, "unload", "--iface", "br1", "--all"), -EINVAL);
	assert_error_line("vnat: unload: ", "either --iface or --all");
	assert_int_equal(UNLOAD(&o, "unload", "-a", "-i", "br1"), -EINVAL);
	assert_error_line("vnat: unload: ", "either --iface or --all");
}

static void test_unload_errors(void **state)
{
	struct vnat_unload_opts o;

	(void)state;
	assert_int_equal(UNLOAD(&o, "unload", "--bogus"), -EINVAL);
	assert_error_line("vnat: unload: ", "unknown option '--bogus'");
	assert_int_equal(UNLOAD(&o, "unload", "--iface"), -EINVAL);
	assert_error_line("vnat: unload: ", "option '--iface' needs a value");
	assert_int_equal(UNLOAD(&o, "unload", "--iface", "abcdefghijklmnop"), -EINVAL);
	assert_error_line("vnat: unload: ", "--iface 'abcdefghijklmnop'",
			  "not a valid interface name");
	assert_int_equal(UNLOAD(&o, "unload", "--iface", ""), -EINVAL);
	assert_error_line("vnat: unload: ", "--iface ''", "not a valid interface name");
	assert_int_equal(UNLOAD(&o, "unload", "br1"), -EINVAL);
	assert_error_line("vnat: unload: ", "unexpected argument 'br1'");
	assert_int_equal(UNLOAD(&o, "unload", "--help"), 1);
	assert_string_equal(err_text, "");
	assert_true(!strncmp(out_text, "Usage: vnat unload", 18));
}

/*
 * Letters that take a value in load (i, m, s) but are not options of
 * this command at all: the message must say "unknown option".
 */
static void test_unknown_letter_of_other_command(void **state)
{
	struct vnat_unload_opts o;

	(void)state;
	assert_int_equal(UNLOAD(&o, "unload", "-s"), -EINVAL);
	assert_error_line("vnat: unload: ", "'-s'");
	assert_error_line("vnat: unload: ", "unknown option '-s'");
	assert_int_equal(UNLOAD(&o, "unload", "-m", "skb"), -EINVAL);
	assert_error_line("vnat: unload: ", "unknown option '-m'");
	assert_int_equal(NONE("status", "-i"), -EINVAL);
	assert_error_line("vnat: status: ", "unknown option '-i'");
}

/* An unknown letter first in a cluster ("-xa") is named ("-x"), not the previous word. */
static void test_unknown_letter_in_cluster(void **state)
{
	struct vnat_unload_opts o;

	(void)state;
	assert_int_equal(UNLOAD(&o, "unload", "-xa"), -EINVAL);
	assert_error_line("vnat: unload: ", "unknown option");
	assert_error_line("vnat: unload: ", "unknown option '-x'");
}

/* --- show commands: only -j/--json, -p/--pretty ---------------------------- */

static void test_none(void **state)
{
	(void)state;
	assert_int_equal(NONE("status"), 0);
	assert_silent();
	assert_false(show.json);
	assert_int_equal(NONE("status", "-j"), 0);
	assert_true(show.json);
	assert_false(show.pretty);
	assert_int_equal(NONE("status", "--pretty"), 0);
	assert_true(show.json);
	assert_true(show.pretty);
	assert_int_equal(NONE("status", "extra"), -EINVAL);
	assert_error_line("vnat: status: ", "unexpected argument 'extra'");
	assert_int_equal(NONE("status", "--bogus"), -EINVAL);
	assert_error_line("vnat: status: ", "unknown option '--bogus'");
	assert_int_equal(NONE("status", "-h"), 1);
	assert_string_equal(err_text, "");
	/* The usage comes from status's table: its synopsis line first. */
	assert_true(!strncmp(out_text, "Usage: vnat status\n", 19));
	assert_string_equal(out_text, usage_of("status"));
	assert_int_equal(NONE("status", "--help"), 1);
	assert_string_equal(out_text, usage_of("status"));
}

/* -v after a show command, as before it (it was refused while -j was taken). */
static void test_show_verbose(void **state)
{
	(void)state;
	assert_int_equal(NONE("status", "-v"), 0);
	assert_silent();
	assert_true(show.verbose);
	assert_false(show.json);
	assert_int_equal(NONE("status", "-jv"), 0);
	assert_true(show.verbose && show.json);
	assert_int_equal(NONE("status", "--verbose"), 0);
	assert_true(show.verbose);
}

static void test_unload_stale(void **state)
{
	struct vnat_unload_opts o;

	(void)state;
	assert_int_equal(UNLOAD(&o, "unload", "--stale"), 0);
	assert_silent();
	assert_true(o.stale);
	assert_false(o.all);
	assert_int_equal(UNLOAD(&o, "unload", "--stale", "--all"), -EINVAL);
	assert_error_line("vnat: unload: ", "--stale", "alone");
	assert_int_equal(UNLOAD(&o, "unload", "--iface", "br1", "--stale"), -EINVAL);
	assert_error_line("vnat: unload: ", "--stale", "alone");
}

#define DAEMON(o, ...) CAPTURED(vnat_args__parse_daemon(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o)))

static void test_daemon(void **state)
{
	struct vnat_daemon_opts o;

	(void)state;
	assert_int_equal(DAEMON(&o, "daemon"), 0);
	assert_false(o.once);
	assert_int_equal(DAEMON(&o, "daemon", "--once", "-v"), 0);
	assert_silent();
	assert_true(o.once && o.verbose);
	assert_int_equal(DAEMON(&o, "daemon", "--bogus"), -EINVAL);
	assert_error_line("vnat: daemon: ", "unknown option '--bogus'");
	assert_int_equal(DAEMON(&o, "daemon", "now"), -EINVAL);
	assert_error_line("vnat: daemon: ", "unexpected argument 'now'");
}

#define APPLY(o, ...) CAPTURED(vnat_args__parse_apply(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o)))
#define LIBVIRT(o, ...) \
	CAPTURED(vnat_args__parse_libvirt(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o)))

static void test_apply(void **state)
{
	struct vnat_apply_opts o;

	(void)state;
	assert_int_equal(APPLY(&o, "apply", "/tmp/x.conf"), 0);
	assert_silent();
	assert_string_equal(o.file, "/tmp/x.conf");
	setenv("VNAT_CONF", "/tmp/env.conf", 1);
	assert_int_equal(APPLY(&o, "apply"), 0);
	assert_string_equal(o.file, "/tmp/env.conf");
	unsetenv("VNAT_CONF");
	assert_int_equal(APPLY(&o, "apply", "a.conf", "b.conf"), -EINVAL);
	assert_error_line("vnat: apply: ", "unexpected argument 'b.conf'");
	assert_int_equal(APPLY(&o, "apply", "--dry-run"), -EINVAL);
	assert_error_line("vnat: apply: ", "unknown option '--dry-run'");
}

/* As libvirtd calls the hook: NETWORK OPERATION SUB-OPERATION EXTRA. */
static void test_libvirt_hook(void **state)
{
	struct vnat_libvirt_opts o;

	(void)state;
	assert_int_equal(LIBVIRT(&o, "libvirt-hook", "default", "started", "begin", "-"), 0);
	assert_silent();
	assert_string_equal(o.network, "default");
	assert_string_equal(o.op, "started");
	assert_int_equal(LIBVIRT(&o, "libvirt-hook", "--config", "/x", "n", "stopped"), 0);
	assert_string_equal(o.config, "/x");
	assert_int_equal(LIBVIRT(&o, "libvirt-hook", "default"), -EINVAL);
	assert_error_line("vnat: libvirt-hook: ", "NETWORK OPERATION");
	assert_int_equal(LIBVIRT(&o, "libvirt-hook", "a", "b", "c", "d", "e"), -EINVAL);
	assert_error_line("vnat: libvirt-hook: ", "NETWORK OPERATION");
}

/* --- vnat_iface__resolve, in a private network namespace ------------------ */

static bool have_tun;

static int iface_setup(void **state)
{
	(void)state;
	if (netns_enter_private())
		return -1;
	if (sh("ip link set lo up") ||
	    sh("ip link add va0 address 02:00:00:00:0a:01 type veth peer name va0p "
	       "address 02:00:00:00:0a:02"))
		return -1;
	have_tun = !system("ip tuntap add dev tun0 mode tun 2>/dev/null");
	return 0;
}

#define RESOLVE(name, ifi) CAPTURED(vnat_iface__resolve((name), (ifi)))

static void test_iface_ok(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0x0a, 0x01 };
	struct vnat_iface_info ifi;

	(void)state;
	assert_int_equal(RESOLVE("va0", &ifi), 0);
	assert_silent();
	assert_string_equal(ifi.name, "va0");
	assert_int_equal(ifi.ifindex, if_nametoindex("va0"));
	assert_memory_equal(ifi.mac, mac, sizeof(mac));
}

static void test_iface_missing(void **state)
{
	struct vnat_iface_info ifi;

	(void)state;
	assert_int_equal(RESOLVE("nosuch0", &ifi), -ENODEV);
	assert_error_line("vnat: ", "interface 'nosuch0'", "does not exist");
	/* eth0 of the host is not in this namespace. */
	assert_int_equal(RESOLVE("eth0", &ifi), -ENODEV);
	assert_error_line("vnat: ", "interface 'eth0'", "does not exist");
}

static void test_iface_loopback(void **state)
{
	struct vnat_iface_info ifi;

	(void)state;
	assert_int_equal(RESOLVE("lo", &ifi), -EINVAL);
	assert_error_line("vnat: ", "interface 'lo'", "loopback");
}

static void test_iface_name_too_long(void **state)
{
	struct vnat_iface_info ifi;

	(void)state;
	assert_int_equal(RESOLVE("abcdefghijklmnop", &ifi), -EINVAL);
	assert_error_line("vnat: ", "interface 'abcdefghijklmnop'", "longer than 15");
}

static void test_iface_not_ethernet(void **state)
{
	struct vnat_iface_info ifi;

	(void)state;
	if (!have_tun)
		skip(); /* no /dev/net/tun */
	assert_int_equal(RESOLVE("tun0", &ifi), -EINVAL);
	assert_error_line("vnat: ", "interface 'tun0'", "not an Ethernet interface");
}

int main(void)
{
	const struct CMUnitTest args_tests[] = {
		cmocka_unit_test(test_load_user_form),
		cmocka_unit_test(test_load_defaults),
		cmocka_unit_test(test_load_multiple_ifaces),
		cmocka_unit_test(test_load_modes),
		cmocka_unit_test(test_load_short_options),
		cmocka_unit_test(test_load_help),
		cmocka_unit_test(test_load_limits),
		cmocka_unit_test(test_load_snat_edges_accepted),
		cmocka_unit_test(test_load_no_iface),
		cmocka_unit_test(test_load_unknown_option),
		cmocka_unit_test(test_load_missing_value),
		cmocka_unit_test(test_load_mode_bogus),
		cmocka_unit_test(test_load_admission),
		cmocka_unit_test(test_load_snat_not_ipv4),
		cmocka_unit_test(test_load_snat_unusable),
		cmocka_unit_test(test_load_duplicate_iface),
		cmocka_unit_test(test_load_bad_iface_name),
		cmocka_unit_test(test_load_stray_argument),
		cmocka_unit_test(test_load_parse_restarts),
		cmocka_unit_test(test_unload_default_all),
		cmocka_unit_test(test_unload_iface),
		cmocka_unit_test(test_unload_conflict),
		cmocka_unit_test(test_unload_errors),
		cmocka_unit_test(test_unknown_letter_of_other_command),
		cmocka_unit_test(test_unknown_letter_in_cluster),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_show_verbose),
		cmocka_unit_test(test_unload_stale),
		cmocka_unit_test(test_daemon),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_libvirt_hook),
	};
	const struct CMUnitTest iface_tests[] = {
		cmocka_unit_test(test_iface_ok),
		cmocka_unit_test(test_iface_missing),
		cmocka_unit_test(test_iface_loopback),
		cmocka_unit_test(test_iface_name_too_long),
		cmocka_unit_test(test_iface_not_ethernet),
	};
	int failed;

	failed = cmocka_run_group_tests_name("args", args_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("iface", iface_tests, iface_setup, NULL);
	return failed ? 1 : 0;
}
