// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The map-iteration layer (user/iter.c): every entry seen exactly once
 * while the walker deletes or updates entries (which upsets a plain
 * bpf_map_get_next_key walk), entries deleted meanwhile skipped, and the
 * walk stopped by the callback's first non-zero return.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cmocka.h>
#include "iter.h"

#define N 200

static int map_fd = -1;
static int seen[N];

static int setup(void **state)
{
	(void)state;
	memset(seen, 0, sizeof(seen));
	map_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "vnat_test_iter", sizeof(__u32), sizeof(__u64),
				N, NULL);
	if (map_fd < 0)
		return -1;
	for (__u32 k = 0; k < N; k++) {
		__u64 v = k * 10;

		if (bpf_map_update_elem(map_fd, &k, &v, BPF_NOEXIST))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(map_fd);
	return 0;
}

static int count_entries(void)
{
	__u32 key, next;
	int n = 0;

	for (int e = bpf_map_get_next_key(map_fd, NULL, &next); !e;
	     e = bpf_map_get_next_key(map_fd, &key, &next)) {
		key = next;
		n++;
	}
	return n;
}

static int delete_each(const void *key, void *val, void *ctx)
{
	__u32 k = *(const __u32 *)key;

	(void)ctx;
	assert_int_equal(*(__u64 *)val, k * 10);
	seen[k]++;
	assert_int_equal(bpf_map_delete_elem(map_fd, key), 0);
	return 0;
}

static void test_delete_while_walking(void **state)
{
	(void)state;
	assert_int_equal(vnat_map__each(map_fd, delete_each, NULL), 0);
	for (int k = 0; k < N; k++)
		assert_int_equal(seen[k], 1);
	assert_int_equal(count_entries(), 0);
}

/* Updating a hash entry moves it in the kernel's buckets. */
static int update_each(const void *key, void *val, void *ctx)
{
	__u32 k = *(const __u32 *)key;
	__u64 v = *(__u64 *)val + 1;

	(void)ctx;
	seen[k]++;
	assert_int_equal(bpf_map_update_elem(map_fd, key, &v, BPF_EXIST), 0);
	return 0;
}

static void test_update_while_walking(void **state)
{
	__u64 v;

	(void)state;
	assert_int_equal(vnat_map__each(map_fd, update_each, NULL), 0);
	for (__u32 k = 0; k < N; k++) {
		assert_int_equal(seen[k], 1);
		assert_int_equal(bpf_map_lookup_elem(map_fd, &k, &v), 0);
		assert_int_equal(v, k * 10 + 1);
	}
}

/* Deleting another entry than the current one: it is skipped, not seen. */
static int delete_partner(const void *key, void *val, void *ctx)
{
	__u32 k = *(const __u32 *)key, partner = k ^ 1;

	(void)val;
	(void)ctx;
	seen[k]++;
	bpf_map_delete_elem(map_fd, &partner);
	return 0;
}

static void test_deleted_meanwhile_skipped(void **state)
{
	(void)state;
	assert_int_equal(vnat_map__each(map_fd, delete_partner, NULL), 0);
	for (int k = 0; k < N; k += 2)
		assert_int_equal(seen[k] + seen[k + 1], 1);
	assert_int_equal(count_entries(), N / 2);
}

static int stop_at_third(const void *key, void *val, void *ctx)
{
	(void)key;
	(void)val;
	return ++*(int *)ctx == 3 ? -EINTR : 0;
}

static void test_stop(void **state)
{
	int calls = 0;

	(void)state;
	assert_int_equal(vnat_map__each(map_fd, stop_at_third, &calls), -EINTR);
	assert_int_equal(calls, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delete_while_walking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_while_walking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_meanwhile_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
