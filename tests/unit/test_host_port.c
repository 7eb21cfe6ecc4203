/* host_port.c: the REDIS_SENTINELS list, parsed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "host_port.h"

Test(host_port, names_addresses_and_brackets)
{
	struct host_port list[HOST_PORT_LIST_MAX];
	size_t n = 0;

	cr_assert_null(host_port_list_parse(
	    "127.0.0.1:26379 , sentinel-b.internal:1,[fe80::1%eth0]:65535",
	    list, &n));
	cr_assert_eq(n, 3);
	cr_expect_str_eq(list[0].host, "127.0.0.1");
	cr_expect_eq(list[0].port, 26379);
	cr_expect_str_eq(list[1].host, "sentinel-b.internal");
	cr_expect_eq(list[1].port, 1);
	cr_expect_str_eq(list[2].host, "fe80::1%eth0");
	cr_expect_eq(list[2].port, 65535);
}

Test(host_port, one_entry_and_check_only)
{
	size_t n = 0;

	cr_assert_null(host_port_list_parse("localhost:26379", NULL, &n));
	cr_expect_eq(n, 1);
}

Test(host_port, sixteen_entries_fit)
{
	struct host_port list[HOST_PORT_LIST_MAX];
	char text[256] = "";
	size_t n = 0;

	for (int i = 1; i <= HOST_PORT_LIST_MAX; i++) {
		char entry[16];

		snprintf(entry, sizeof(entry), "%sh:%d", i > 1 ? "," : "", i);
		strcat(text, entry);
	}
	cr_assert_null(host_port_list_parse(text, list, &n));
	cr_expect_eq(n, HOST_PORT_LIST_MAX);
	cr_expect_eq(list[15].port, 16);
	strcat(text, ",h:17");
	cr_expect_not_null(host_port_list_parse(text, list, &n));
}

Test(host_port, a_host_of_255_bytes_fits_not_256)
{
	char text[300];
	size_t n;

	memset(text, 'a', 255);
	strcpy(text + 255, ":1");
	cr_expect_null(host_port_list_parse(text, NULL, &n));
	memset(text, 'a', 256);
	strcpy(text + 256, ":1");
	cr_expect_not_null(host_port_list_parse(text, NULL, &n));
}

Test(host_port, errors_say_what_is_wrong)
{
	size_t n;

	cr_expect_str_eq(host_port_list_parse("", NULL, &n),
	                 "has an empty entry (expected "
	                 "host:port,host:port,...)");
	cr_expect_str_eq(host_port_list_parse("a", NULL, &n),
	                 "has an entry without :port");
	cr_expect_str_eq(host_port_list_parse("a:99999", NULL, &n),
	                 "has an entry whose port is not from 1 to 65535");
	cr_expect_str_eq(host_port_list_parse("::1:5", NULL, &n),
	                 "has an IPv6 address without brackets "
	                 "([addr]:port)");
	cr_expect_str_eq(host_port_list_parse("a:1, a:1", NULL, &n),
	                 "lists an entry twice");
}
