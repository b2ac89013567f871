// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The configuration file's parser (user/config.c): sections become vnat
 * load argument lists checked by load's own parser; every rejected file
 * comes back as -EINVAL with exactly one line on stderr naming the file,
 * where, and what is wrong.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include "config.h"

static char err_text[4096];
static struct vnat_conf conf;

/* Parse TEXT as the file "t.conf"; stderr lands in err_text. */
static int parse(const char *text)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	FILE *tmp = tmpfile();
	int saved, rc;
	size_t n;

	assert_non_null(in);
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	rc = vnat_config__parse(in, "t.conf", &conf);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(err_text, 1, sizeof(err_text) - 1, tmp);
	err_text[n] = '\0';
	fclose(tmp);
	fclose(in);
	return rc;
}

static void check_error_line(const char *first, ...)
{
	const char *nl = strchr(err_text, '\n');
	bool ok = !strncmp(err_text, "vnat: config: t.conf", 20) && nl && !nl[1];
	va_list ap;

	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		ok = ok && strstr(err_text, s);
	va_end(ap);
	if (!ok)
		print_error("stderr was: \"%s\"\n", err_text);
	assert_true(ok);
}

#define assert_error_line(...) check_error_line(__VA_ARGS__, NULL)

static const char example[] = "# two networks\n"
			      "[network default]\n"
			      "iface = virbr0   # libvirt's\n"
			      "snat = 10.0.0.15\n"
			      "ports = 2000-3000\n"
			      "udp-timeout = 600\n"
			      "hook = tc\n"
			      "\n"
			      "[network lab]\n"
			      "; routed only\n"
			      "iface = br-lab br-lab2, br-lab3\n"
			      "redirects = keep\n"
			      "\n"
			      "[network isolated]\n"
			      "libvirt = skip\n"
			      "\n"
			      "[libvirt]\n"
			      "networks = skip\n";

static void test_example(void **state)
{
	const struct vnat_conf_net *n;
	uint32_t addr;

	(void)state;
	assert_int_equal(parse(example), 0);
	assert_string_equal(err_text, "");
	assert_int_equal(conf.n, 3);
	assert_true(conf.libvirt_skip);

	n = vnat_config__net(&conf, "default");
	assert_non_null(n);
	assert_int_equal(n->line, 2);
	assert_int_equal(n->load.n_ifaces, 1);
	assert_string_equal(n->load.ifaces[0], "virbr0");
	inet_pton(AF_INET, "10.0.0.15", &addr);
	assert_int_equal(n->load.snat_addr, addr);
	assert_int_equal(n->load.port_min, 2000);
	assert_int_equal(n->load.port_max, 3000);
	assert_int_equal(n->load.timeout_udp, 600);
	assert_int_equal(n->load.hook, VNAT_IFACE_HOOK_TC);
	assert_int_equal(n->libvirt, VNAT_CONF_LIBVIRT_DEFAULT);
	/* The argument list load would have been given, in order. */
	assert_int_equal(n->argc, 11);
	assert_string_equal(n->args[0], "load");
	assert_string_equal(n->args[1], "--iface");
	assert_string_equal(n->args[2], "virbr0");
	assert_string_equal(n->args[3], "--snat");

	n = vnat_config__net(&conf, "lab");
	assert_non_null(n);
	assert_int_equal(n->load.n_ifaces, 3);
	assert_string_equal(n->load.ifaces[2], "br-lab3");
	assert_true(n->load.keep_redirects);
	assert_int_equal(n->load.snat_addr, 0);

	n = vnat_config__net(&conf, "isolated");
	assert_non_null(n);
	assert_int_equal(n->load.n_ifaces, 0);
	assert_int_equal(n->libvirt, VNAT_CONF_LIBVIRT_SKIP);
	assert_null(vnat_config__net(&conf, "other"));
}

/* A flag takes yes or no; no leaves it out. */
static void test_flags(void **state)
{
	(void)state;
	assert_int_equal(parse("[network a]\niface = br0\nmasquerade = yes\n"), 0);
	assert_true(conf.nets[0].load.masquerade);
	assert_int_equal(parse("[network a]\niface = br0\nmasquerade = no\n"), 0);
	assert_false(conf.nets[0].load.masquerade);
	assert_int_equal(conf.nets[0].argc, 3);
	assert_int_equal(parse("[network a]\niface = br0\nmasquerade = maybe\n"), -EINVAL);
	assert_error_line(":3:", "masquerade", "yes or no");
}

/* Options for a libvirt network without an interface (the hook names it). */
static void test_template(void **state)
{
	(void)state;
	assert_int_equal(parse("[network default]\nports = 4000-5000\nlibvirt = include\n"), 0);
	assert_int_equal(conf.nets[0].load.n_ifaces, 0);
	assert_int_equal(conf.nets[0].load.port_min, 4000);
	assert_int_equal(conf.nets[0].libvirt, VNAT_CONF_LIBVIRT_INCLUDE);
	assert_false(conf.nets[0].load.masquerade);
	/* With an interface, NAT options without --snat are refused as load does. */
	assert_int_equal(parse("[network a]\niface = br0\nudp-timeout = 600\n"), -EINVAL);
	assert_error_line("[network a]", "NAT options need --snat");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	assert_int_equal(parse("iface = br0\n"), -EINVAL);
	assert_error_line(":1:", "outside a section");
	assert_int_equal(parse("[net a]\n"), -EINVAL);
	assert_error_line(":1:", "unknown section");
	assert_int_equal(parse("[network a\n"), -EINVAL);
	assert_error_line(":1:", "[network NAME]");
	assert_int_equal(parse("[network a b]\n"), -EINVAL);
	assert_error_line(":1:", "not a network name");
	assert_int_equal(parse("[network a]\niface br0\n"), -EINVAL);
	assert_error_line(":2:", "not 'key = value'");
	assert_int_equal(parse("[network a]\niface =\n"), -EINVAL);
	assert_error_line(":2:", "no value");
	assert_int_equal(parse("[network a]\nbogus = 1\n"), -EINVAL);
	assert_error_line(":2:", "'bogus': unknown key");
	assert_int_equal(parse("[network a]\nhelp = yes\n"), -EINVAL);
	assert_error_line(":2:", "'help': unknown key");
	assert_int_equal(parse("[network a]\nlibvirt = sometimes\n"), -EINVAL);
	assert_error_line(":2:", "include or skip");
	assert_int_equal(parse("[libvirt]\nnetworks = all\n"), -EINVAL);
	assert_error_line(":2:", "include or skip");
	assert_int_equal(parse("[libvirt]\nmode = x\n"), -EINVAL);
	assert_error_line(":2:", "unknown key");
	assert_int_equal(parse("[network a]\niface = x\n[network a]\niface = y\n"), -EINVAL);
	assert_error_line(":3:", "given twice");
}

/* Values go through load's parser: its message, with where it came from. */
static void test_value_errors(void **state)
{
	(void)state;
	assert_int_equal(parse("[network a]\niface = br0\nsnat = 10.0.0.1\nports = 5-1\n"),
			 -EINVAL);
	assert_error_line("[network a]", "--ports '5-1'", "not a port range");
	assert_int_equal(parse("[network a]\niface = br0\nhook = fast\n"), -EINVAL);
	assert_error_line("[network a]", "--hook 'fast'");
	assert_int_equal(parse("[network a]\niface = abcdefghijklmnopq\n"), -EINVAL);
	assert_error_line("[network a]", "not a valid interface name");
}

static void test_across_sections(void **state)
{
	(void)state;
	assert_int_equal(parse("[network a]\niface = br0\n[network b]\niface = br1 br0\n"),
			 -EINVAL);
	assert_error_line("interface br0", "[network a]", "[network b]");
	assert_int_equal(parse("[network a]\niface = br0\nsnat = 10.0.0.1\n"
			       "[network b]\niface = br1\nsnat = 10.0.0.1\nports = 2000-3000\n"),
			 -EINVAL);
	assert_error_line("[network a] and [network b] differ in NAT options");
	/* The same NAT options in both: one NAT, two inside networks. */
	assert_int_equal(parse("[network a]\niface = br0\nsnat = 10.0.0.1\n"
			       "[network b]\niface = br1\nsnat = 10.0.0.1\n"),
			 0);
	assert_int_equal(conf.n, 2);
}

static void test_gc_interval(void **state)
{
	(void)state;
	assert_int_equal(vnat_config__gc_interval_ms(7440, 240, 60), 10000);
	assert_int_equal(vnat_config__gc_interval_ms(7440, 240, 8), 2000);
	assert_int_equal(vnat_config__gc_interval_ms(1, 240, 60), 250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),	     cmocka_unit_test(test_flags),
		cmocka_unit_test(test_template),     cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_value_errors), cmocka_unit_test(test_across_sections),
		cmocka_unit_test(test_gc_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
