/*
 * config_test.c
 *		nfpgd's key table and config file parser: defaults, every type,
 *		sizes with suffixes, bounds, quoting, comments, error messages that
 *		name the file and line, and the reloadable flags of key settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char path[64];

static void
write_file(const char *text)
{
	FILE	   *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void
test_defaults(void)
{
	Config		c;

	config_init(&c);
	CHECK(strcmp(c.listen, "127.0.0.1:9995") == 0, "listen default %s", c.listen);
	CHECK(strcmp(c.conninfo, "") == 0, "conninfo default: PG* environment");
	CHECK(c.rcvbuf == 8 << 20, "rcvbuf default %lld", (long long) c.rcvbuf);
	CHECK(c.batch_flows > 0 && c.writers >= 1 && !c.syslog && !c.sampling_upscale, "defaults");
	config_free(&c);
}

static void
test_file(void)
{
	Config		c;
	char		err[256];

	config_init(&c);
	write_file("# nfpgd test\n"
			   "  ; another comment\n"
			   "\n"
			   "listen = 0.0.0.0:2055, [::]:2055\n"
			   "conninfo = host=db port=5433 dbname=flows application_name='x y'\n"
			   "rcvbuf=16M\n"
			   "queue_size = 2g\n"
			   "spool_max_size = 512k\n"
			   "syslog = yes\n"
			   "batch_flows = 1234\n"
			   "pidfile = \"/run/nfpgd name.pid\"\n"
			   "instance = ' padded '\n");
	CHECK(config_load_file(&c, path, err, sizeof(err)) == 0, "load: %s", err);
	CHECK(strcmp(c.listen, "0.0.0.0:2055, [::]:2055") == 0, "listen %s", c.listen);
	CHECK(strcmp(c.conninfo, "host=db port=5433 dbname=flows application_name='x y'") == 0,
		  "conninfo kept verbatim: %s", c.conninfo);
	CHECK(c.rcvbuf == 16 << 20, "16M = %lld", (long long) c.rcvbuf);
	CHECK(c.queue_bytes == INT64_C(2) << 30, "2g = %lld", (long long) c.queue_bytes);
	CHECK(c.spool_max_bytes == 512 << 10, "512k = %lld", (long long) c.spool_max_bytes);
	CHECK(c.syslog, "syslog = yes");
	CHECK(c.batch_flows == 1234, "batch_flows");
	CHECK(strcmp(c.pidfile, "/run/nfpgd name.pid") == 0, "double quotes: %s", c.pidfile);
	CHECK(strcmp(c.instance, " padded ") == 0, "single quotes keep blanks: [%s]", c.instance);
	config_free(&c);
}

/* Each bad file must fail with a message naming the line. */
static void
test_errors(void)
{
	static const struct
	{
		const char *text;
		const char *message;
	}			cases[] = {
		{"listen = x\nno equals sign\n", ":2: expected \"key = value\""},
		{"\n\nbogus_key = 1\n", ":3: unknown setting \"bogus_key\""},
		{"batch_flows = 12x\n", ":1: batch_flows: \"12x\" is not an integer"},
		{"batch_flows = 0\n", ":1: batch_flows: 0 is outside [1, 10000000]"},
		{"writers = 99\n", ":1: writers: 99 is outside [1, 16]"},
		{"rcvbuf = 3T\n", ":1: rcvbuf: \"3T\" is not a size"},
		{"syslog = maybe\n", ":1: syslog: \"maybe\" is not a boolean"},
		{"queue_size = 1k\n", ":1: queue_size: 1k is outside"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		Config		c;
		char		err[256] = "";

		config_init(&c);
		write_file(cases[i].text);
		CHECK(config_load_file(&c, path, err, sizeof(err)) < 0, "case %zu accepted", i);
		CHECK(strstr(err, cases[i].message) != NULL && strstr(err, path) == err,
			  "case %zu: \"%s\" lacks \"%s\"", i, err, cases[i].message);
		config_free(&c);
	}
}

static void
test_missing_file(void)
{
	Config		c;
	char		err[256];

	config_init(&c);
	CHECK(config_load_file(&c, "/nonexistent/nfpgd.conf", err, sizeof(err)) < 0 &&
		  strstr(err, "cannot open /nonexistent/nfpgd.conf"), "missing file: %s", err);
	config_free(&c);
}

/* Flags go through config_set; a failed set leaves the old value. */
static void
test_set_and_compare(void)
{
	Config		a,
				b;
	char		err[256],
				buf[64];
	const ConfigKey *k = config_find("batch_flows");

	config_init(&a);
	config_init(&b);
	CHECK(config_set(&b, "batch_flows", "777", err, sizeof(err)) == 0, "set");
	CHECK(!config_key_equal(&a, &b, k), "differs after set");
	CHECK(config_set(&b, "batch_flows", "-5", err, sizeof(err)) < 0 && b.batch_flows == 777,
		  "rejected value keeps the old one");
	config_format_value(&b, k, buf, sizeof(buf));
	CHECK(strcmp(buf, "777") == 0, "format %s", buf);
	CHECK(config_find("listen") && !config_find("listen")->reloadable, "listen needs a restart");
	CHECK(config_find("conninfo")->reloadable, "conninfo reloads");
	CHECK(config_find("log_level")->reloadable, "log_level reloads");
	CHECK(config_find("anonymize_key_file") && !config_find("anonymize_key_file")->reloadable,
		  "anonymize key needs a restart");
	for (k = config_keys; k->name; k++)
		CHECK(k->help && k->help[0], "%s has help text", k->name);
	config_free(&a);
	config_free(&b);
}

int
main(void)
{
	snprintf(path, sizeof(path), "/tmp/nfpgd-config-test.%d.conf", (int) getpid());
	test_defaults();
	test_file();
	test_errors();
	test_missing_file();
	test_set_and_compare();
	unlink(path);
	return unit_report("config_test");
}
