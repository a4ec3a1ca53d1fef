/* test_cni.c: unit tests for backend/cni.c: CIDR checks, the conflist,
 * each plugin's stdin, result parsing, error messages, and ADD/DEL run
 * against fake plugins (shell scripts in a temporary CNI_PATH that log
 * their calls), so the order of calls, prevResult, DEL after a failed ADD
 * and the record are checked without root or a real network. */
#include "backend/cni.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *RESULT =
    "{\"cniVersion\":\"1.0.0\","
    "\"interfaces\":[{\"name\":\"podfs0\",\"mac\":\"aa\"},{\"name\":\"veth0e33e4cd\",\"mac\":"
    "\"bb\"},"
    "{\"name\":\"eth0\",\"mac\":\"cc\",\"sandbox\":\"/run/x/net\"}],"
    "\"ips\":[{\"interface\":2,\"address\":\"10.88.77.2/24\",\"gateway\":\"10.88.77.1\"}],"
    "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{}}";

TEST(cidr_valid)
{
	char *canon = NULL, *err = NULL;
	CHECK(cni_parse_cidr("10.88.0.0/16", &canon, &err) == 0);
	CHECK_STREQ(canon, "10.88.0.0/16");
	free(canon);
	CHECK(cni_parse_cidr("192.168.7.0/30", NULL, &err) == 0);
	CHECK(cni_parse_cidr("10.0.0.0/8", NULL, &err) == 0);
	CHECK(err == NULL);
}

TEST(cidr_invalid)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"10.88.0.0", "invalid CIDR address: 10.88.0.0"},
	    {"10.88.0.0/", "invalid CIDR address"},
	    {"/16", "invalid CIDR address"},
	    {"10.88.0.0/1x", "invalid CIDR address"},
	    {"10.88.0.0/016", "invalid CIDR address"},
	    {"10.88.0.256/16", "invalid CIDR address"},
	    {"fd00::/64", "invalid CIDR address"},
	    {"10.88.0.1/16", "network has host bits set; for a prefix length of 16 the network "
			     "address is 10.88.0.0"},
	    {"10.0.0.0/7", "prefix length must be from 8 to 30"},
	    {"10.88.0.0/31", "prefix length must be from 8 to 30"},
	    {"127.0.0.0/8", "overlaps 127.0.0.0/8 (loopback)"},
	    {"169.254.0.0/24", "link-local"},
	    {"224.0.0.0/8", "multicast"},
	    {"0.0.0.0/8", "this network"},
	    {"", "invalid CIDR address"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *canon = NULL, *err = NULL;
		int r = cni_parse_cidr(cases[i].in, &canon, &err);
		if (r != -EINVAL)
			fprintf(stderr, "  accepted %s\n", cases[i].in);
		CHECK(r == -EINVAL);
		CHECK(canon == NULL);
		CHECK_CONTAINS(err, cases[i].want);
		free(err);
	}
}

TEST(net_names)
{
	struct cni_net n;
	char *err = NULL;
	/* 10.231.0.0/16: assumed to be on no interface of the test machine */
	CHECK(cni_net_init(&n, "10.231.0.0/16", NULL, NULL, "192.0.2.2", &err) == 0);
	CHECK_STREQ(n.name, "podfs-10.231.0.0-16");
	CHECK_STREQ(n.gateway, "10.231.0.1");
	CHECK_STREQ(n.bin_dir, CNI_DEFAULT_BIN_DIR);
	CHECK(strlen(n.bridge) <= 15);
	CHECK(cni_is_podfs_bridge(n.bridge));
	CHECK(!cni_is_podfs_bridge("eth0"));
	CHECK(!cni_is_podfs_bridge("podfs0"));
	struct cni_net m;
	CHECK(cni_net_init(&m, "10.232.0.0/16", NULL, NULL, NULL, &err) == 0);
	CHECK(strcmp(n.bridge, m.bridge) != 0); /* one bridge per CIDR */
	CHECK_STREQ(m.host_ip, "");
	cni_net_fini(&n);
	cni_net_fini(&m);
	cni_net_fini(NULL);
}

TEST(net_overlaps_loopback_interface)
{
	/* 127/8 is refused by the range check before any interface is seen */
	struct cni_net n;
	char *err = NULL;
	CHECK(cni_net_init(&n, "127.0.0.0/8", NULL, NULL, NULL, &err) == -EINVAL);
	CHECK_CONTAINS(err, "loopback");
	free(err);
}

TEST(conflist)
{
	struct cni_net n;
	char *err = NULL;
	CHECK(cni_net_init(&n, "10.231.0.0/16", "/bin/x", "/run/test-shared", "192.0.2.2", &err) ==
	      0);
	char *s = cni_conflist(&n);
	json_t *o = json_loads(s, 0, NULL);
	CHECK(o != NULL);
	CHECK_STREQ(json_string_value(json_object_get(o, "cniVersion")), "1.0.0");
	CHECK_STREQ(json_string_value(json_object_get(o, "name")), "podfs-10.231.0.0-16");
	json_t *br = json_array_get(json_object_get(o, "plugins"), 0);
	CHECK_STREQ(json_string_value(json_object_get(br, "type")), "bridge");
	CHECK_STREQ(json_string_value(json_object_get(br, "bridge")), n.bridge);
	CHECK(json_is_false(json_object_get(br, "isGateway")));
	CHECK(json_is_false(json_object_get(br, "ipMasq")));
	CHECK(json_is_true(json_object_get(br, "hairpinMode")));
	json_t *ipam = json_object_get(br, "ipam");
	CHECK_STREQ(json_string_value(json_object_get(ipam, "type")), "host-local");
	CHECK_STREQ(json_string_value(json_object_get(ipam, "dataDir")), "/run/test-shared/ipam");
	json_t *r0 = json_array_get(json_array_get(json_object_get(ipam, "ranges"), 0), 0);
	CHECK_STREQ(json_string_value(json_object_get(r0, "subnet")), "10.231.0.0/16");
	CHECK_STREQ(json_string_value(json_object_get(r0, "gateway")), "10.231.0.1");
	json_t *routes = json_object_get(ipam, "routes");
	CHECK(json_array_size(routes) == 1);
	CHECK_STREQ(json_string_value(json_object_get(json_array_get(routes, 0), "dst")),
		    "192.0.2.2/32");
	CHECK(cni_plugin_count(s) == 1);
	char *t = cni_plugin_type(s, 0);
	CHECK_STREQ(t, "bridge");
	free(t);
	CHECK(cni_plugin_type(s, 1) == NULL);
	json_decref(o);
	free(s);
	cni_net_fini(&n);

	s = cni_loopback_conflist();
	CHECK(cni_plugin_count(s) == 1);
	t = cni_plugin_type(s, 0);
	CHECK_STREQ(t, "loopback");
	free(t);
	free(s);
}

TEST(plugin_stdin)
{
	const char *cl = "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"plugins\":["
			 "{\"type\":\"bridge\",\"bridge\":\"b0\"},"
			 "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}";
	char *err = NULL;
	char *s = cni_plugin_stdin(cl, 0, NULL, &err);
	json_t *o = json_loads(s, 0, NULL);
	CHECK_STREQ(json_string_value(json_object_get(o, "cniVersion")), "1.0.0");
	CHECK_STREQ(json_string_value(json_object_get(o, "name")), "net");
	CHECK_STREQ(json_string_value(json_object_get(o, "type")), "bridge");
	CHECK_STREQ(json_string_value(json_object_get(o, "bridge")), "b0");
	CHECK(json_object_get(o, "prevResult") == NULL);
	json_decref(o);
	free(s);

	s = cni_plugin_stdin(cl, 1, RESULT, &err);
	o = json_loads(s, 0, NULL);
	CHECK_STREQ(json_string_value(json_object_get(o, "type")), "portmap");
	CHECK(json_object_get(o, "capabilities") == NULL);
	json_t *pr = json_object_get(o, "prevResult");
	CHECK(json_is_object(pr));
	CHECK(json_array_size(json_object_get(pr, "ips")) == 1);
	json_decref(o);
	free(s);

	CHECK(cni_plugin_stdin(cl, 2, NULL, &err) == NULL);
	CHECK_CONTAINS(err, "no plugin 2");
	free(err);
	err = NULL;
	CHECK(cni_plugin_stdin("{not json", 0, NULL, &err) == NULL);
	CHECK_CONTAINS(err, "invalid network configuration");
	free(err);
	err = NULL;
	CHECK(cni_plugin_stdin(cl, 0, "[1,", &err) == NULL);
	CHECK_CONTAINS(err, "invalid previous result");
	free(err);
	/* a type that is a path is no plugin name */
	CHECK(cni_plugin_type("{\"plugins\":[{\"type\":\"../../bin/sh\"}]}", 0) == NULL);
	CHECK(cni_plugin_type("{\"plugins\":[{\"type\":\"..\"}]}", 0) == NULL);
	CHECK(cni_plugin_count("{\"plugins\":{}}") == 0);
}

TEST(result_ips)
{
	char **ips = NULL, *err = NULL;
	CHECK(cni_result_ips(RESULT, "eth0", &ips, &err) == 0);
	CHECK(ips && ips[0] && !ips[1]);
	CHECK_STREQ(ips[0], "10.88.77.2");
	cni_ips_free(ips);

	/* dual stack, IPv6 listed first: IPv4 comes first; the bridge's own
	 * address and lo's are not the pod's */
	const char *dual =
	    "{\"interfaces\":[{\"name\":\"br\"},{\"name\":\"eth0\",\"sandbox\":\"/n\"},"
	    "{\"name\":\"lo\",\"sandbox\":\"/n\"}],"
	    "\"ips\":[{\"interface\":1,\"address\":\"fd00:0:0::0:5/64\"},"
	    "{\"interface\":0,\"address\":\"10.1.0.1/16\"},"
	    "{\"interface\":2,\"address\":\"127.0.0.1/8\"},"
	    "{\"interface\":1,\"address\":\"10.1.0.5/16\"}]}";
	CHECK(cni_result_ips(dual, "eth0", &ips, &err) == 0);
	CHECK_STREQ(ips[0], "10.1.0.5");
	CHECK_STREQ(ips[1], "fd00::5");
	CHECK(ips[2] == NULL);
	cni_ips_free(ips);

	/* no interface index: taken (older results) */
	CHECK(cni_result_ips("{\"ips\":[{\"address\":\"10.2.0.3/16\"}]}", "eth0", &ips, &err) == 0);
	CHECK_STREQ(ips[0], "10.2.0.3");
	cni_ips_free(ips);

	/* eth0 outside a sandbox is the host's, not the pod's */
	CHECK(cni_result_ips("{\"interfaces\":[{\"name\":\"eth0\"}],"
			     "\"ips\":[{\"interface\":0,\"address\":\"10.2.0.3/16\"}]}",
			     "eth0", &ips, &err) == -EINVAL);
	CHECK_CONTAINS(err, "no IP address for eth0");
	free(err);
	err = NULL;

	static const char *bad[] = {"",
				    "[]",
				    "{\"ips\":5}",
				    "{\"ips\":[{\"interface\":9,\"address\":\"10.0.0.1/8\"}]}",
				    "{\"ips\":[{\"interface\":-1,\"address\":\"10.0.0.1/8\"}]}",
				    "{\"ips\":[{\"interface\":\"0\",\"address\":\"10.0.0.1/8\"}]}",
				    "{\"ips\":[{\"address\":\"not-an-ip/8\"}]}",
				    "{\"ips\":[{\"address\":7}]}",
				    "{\"ips\":[{\"address\":\"10.0.0.1/"
				    "8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ips = NULL;
		err = NULL;
		int r = cni_result_ips(bad[i], "eth0", &ips, &err);
		/* the last one has a valid address before the slash */
		if (i == sizeof(bad) / sizeof(bad[0]) - 1) {
			CHECK(r == 0);
			cni_ips_free(ips);
			continue;
		}
		CHECK(r == -EINVAL);
		CHECK(ips == NULL);
		CHECK(err != NULL);
		free(err);
	}
}

TEST(error_message)
{
	char *m =
	    cni_error_message("{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"failed to "
			      "allocate for range 0\",\"details\":\"no IP addresses available "
			      "in range set: 10.0.0.1-10.0.0.2\"}",
			      "", 1);
	CHECK_STREQ(m, "failed to allocate for range 0; no IP addresses available in range set: "
		       "10.0.0.1-10.0.0.2");
	free(m);
	m = cni_error_message("{\"code\":7,\"msg\":\"bad\"}", "x", 1);
	CHECK_STREQ(m, "bad");
	free(m);
	/* found by fuzz_cni: an empty msg gave an empty message */
	m = cni_error_message("{\"code\":7,\"msg\":\"\"}", "", 1);
	CHECK_STREQ(m, "{\"code\":7,\"msg\":\"\"}");
	free(m);
	m = cni_error_message("garbage\n", "  panic: boom\n", 2);
	CHECK_STREQ(m, "panic: boom");
	free(m);
	m = cni_error_message("plain words\n", "", 2);
	CHECK_STREQ(m, "plain words");
	free(m);
	m = cni_error_message("", "", 3);
	CHECK_STREQ(m, "exit status 3");
	free(m);
	m = cni_error_message(NULL, NULL, 137);
	CHECK_STREQ(m, "killed by signal 9");
	free(m);
}

TEST(args)
{
	struct cni_pod p = {
	    .container_id = "abc", .netns = "/n", .name = "web", .namespace = "ns1", .uid = "u1"};
	char *a = cni_args(&p);
	CHECK_STREQ(a, "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;"
		       "K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u1");
	free(a);
}

/* ---- ADD and DEL with fake plugins --------------------------------------- */

static char *tmp;

static void write_script(const char *name, const char *body)
{
	char *path = xasprintf("%s/bin/%s", tmp, name);
	char *text = xasprintf("#!/bin/sh\nD=%s\n%s", tmp, body);
	util_write_file(path, text, strlen(text), 0755);
	free(path);
	free(text);
}

static char *slurp(const char *leaf)
{
	char *path = xasprintf("%s/%s", tmp, leaf);
	char *buf = NULL;
	size_t len = 0;
	if (util_read_file(path, 1 << 20, &buf, &len) < 0)
		buf = NULL;
	free(path);
	return buf;
}

static bool exists(const char *leaf)
{
	char *path = xasprintf("%s/%s", tmp, leaf);
	bool r = access(path, F_OK) == 0;
	free(path);
	return r;
}

static void touch(const char *leaf)
{
	char *path = xasprintf("%s/%s", tmp, leaf);
	util_write_file(path, "", 0, 0644);
	free(path);
}

static void rm(const char *leaf)
{
	char *path = xasprintf("%s/%s", tmp, leaf);
	unlink(path);
	free(path);
}

static void setup_fakes(struct cni_net *n)
{
	char t[] = "/tmp/podfs-test-cni.XXXXXX";
	tmp = xstrdup(mkdtemp(t));
	char *bin = xasprintf("%s/bin", tmp);
	mkdir(bin, 0755);
	/* each logs "TYPE COMMAND IFNAME CID NETNS" and keeps its stdin */
	write_script(
	    "loopback",
	    "in=$(cat)\n"
	    "echo \"loopback $CNI_COMMAND $CNI_IFNAME $CNI_CONTAINERID [$CNI_NETNS]\" >>$D/log\n"
	    "printf '%s' \"$in\" >$D/stdin-loopback-$CNI_COMMAND\n"
	    "[ $CNI_COMMAND = ADD ] && printf '%s' '{\"cniVersion\":\"1.0.0\",\"interfaces\":"
	    "[{\"name\":\"lo\",\"sandbox\":\"x\"}],\"ips\":[{\"interface\":0,\"address\":"
	    "\"127.0.0.1/8\"}]}'\n"
	    "exit 0\n");
	write_script(
	    "bridge",
	    "in=$(cat)\n"
	    "echo \"bridge $CNI_COMMAND $CNI_IFNAME $CNI_CONTAINERID [$CNI_NETNS] $CNI_ARGS\" "
	    ">>$D/log\n"
	    "printf '%s' \"$in\" >$D/stdin-bridge-$CNI_COMMAND\n"
	    "if [ $CNI_COMMAND = ADD ] && [ -e $D/fail-add ]; then\n"
	    "  echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"failed to allocate for "
	    "range 0\",\"details\":\"no IP addresses available\"}'; exit 1; fi\n"
	    "if [ $CNI_COMMAND = DEL ] && [ -e $D/fail-del ]; then\n"
	    "  echo 'cannot delete' >&2; exit 1; fi\n"
	    "if [ $CNI_COMMAND = ADD ] && [ -e $D/hang ]; then exec sleep 30; fi\n"
	    "[ $CNI_COMMAND = ADD ] && printf '%s' '{\"cniVersion\":\"1.0.0\",\"interfaces\":"
	    "[{\"name\":\"br\"},{\"name\":\"veth1\"},{\"name\":\"eth0\",\"sandbox\":\"x\"}],"
	    "\"ips\":[{\"interface\":2,\"address\":\"10.231.0.7/16\",\"gateway\":"
	    "\"10.231.0.1\"}]}'\n"
	    "exit 0\n");
	char *shared = xasprintf("%s/shared", tmp);
	char *err = NULL;
	if (cni_net_init(n, "10.231.0.0/16", bin, shared, "192.0.2.2", &err) < 0) {
		fprintf(stderr, "  cni_net_init: %s\n", err);
		free(err);
	}
	n->own_bridge = false;
	n->timeout_ms = 2000;
	free(bin);
	free(shared);
}

static void teardown_fakes(struct cni_net *n)
{
	cni_net_fini(n);
	util_rm_rf(tmp);
	free(tmp);
	tmp = NULL;
}

TEST(add_del_order_and_prev_result)
{
	struct cni_net n;
	setup_fakes(&n);
	char *rec = xasprintf("%s/rec.json", tmp);
	struct cni_pod p = {.container_id = "cid1",
			    .netns = "/not/a/netns",
			    .name = "web",
			    .namespace = "default",
			    .uid = "u1"};
	char **ips = NULL, *err = NULL;
	CHECK(cni_add(&n, &p, rec, &ips, &err) == 0);
	CHECK(ips && ips[0] && !ips[1]);
	CHECK_STREQ(ips ? ips[0] : NULL, "10.231.0.7");
	cni_ips_free(ips);
	char *log = slurp("log");
	CHECK_STREQ(log,
		    "loopback ADD lo cid1 [/not/a/netns]\n"
		    "bridge ADD eth0 cid1 [/not/a/netns] IgnoreUnknown=1;K8S_POD_NAMESPACE="
		    "default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=cid1;K8S_POD_UID=u1\n");
	free(log);
	char *in = slurp("stdin-bridge-ADD");
	CHECK_CONTAINS(in, "\"name\":\"podfs-10.231.0.0-16\"");
	CHECK_CONTAINS(in, "\"cniVersion\":\"1.0.0\"");
	CHECK(!strstr(in, "prevResult"));
	free(in);
	/* the record survives (a restart reads the IPs from it) */
	CHECK(cni_record_ips(rec, &ips) == 0);
	CHECK_STREQ(ips ? ips[0] : NULL, "10.231.0.7");
	cni_ips_free(ips);

	rm("log");
	CHECK(cni_del(&n, rec, &err) == 0);
	log = slurp("log");
	/* reverse order; the path is no netns, so CNI_NETNS is empty */
	CHECK_STREQ(log, "bridge DEL eth0 cid1 [] IgnoreUnknown=1;K8S_POD_NAMESPACE=default;"
			 "K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=cid1;K8S_POD_UID=u1\n"
			 "loopback DEL lo cid1 []\n");
	free(log);
	in = slurp("stdin-bridge-DEL");
	CHECK_CONTAINS(in, "\"prevResult\":{");
	CHECK_CONTAINS(in, "10.231.0.7/16");
	free(in);
	in = slurp("stdin-loopback-DEL");
	CHECK_CONTAINS(in, "127.0.0.1/8");
	free(in);
	CHECK(access(rec, F_OK) < 0);
	CHECK(cni_record_ips(rec, &ips) == -ENOENT);
	/* DEL again: nothing recorded, nothing to do */
	rm("log");
	CHECK(cni_del(&n, rec, &err) == 0);
	CHECK(!exists("log"));
	CHECK(exists("shared/podfs-10.231.0.0-16.lock"));
	free(rec);
	teardown_fakes(&n);
}

TEST(failed_add_runs_del)
{
	struct cni_net n;
	setup_fakes(&n);
	char *rec = xasprintf("%s/rec.json", tmp);
	struct cni_pod p = {.container_id = "cid2", .netns = "/nn", .name = "db", .uid = "u2"};
	touch("fail-add");
	char **ips = NULL, *err = NULL;
	CHECK(cni_add(&n, &p, rec, &ips, &err) == -EIO);
	CHECK(ips == NULL);
	CHECK_STREQ(err,
		    "failed to setup network for sandbox \"cid2\": plugin type=\"bridge\" "
		    "name=\"podfs-10.231.0.0-16\" failed (add): failed to allocate for range 0; "
		    "no IP addresses available");
	free(err);
	err = NULL;
	char *log = slurp("log");
	CHECK_CONTAINS(log, "loopback ADD lo cid2");
	CHECK_CONTAINS(log, "bridge ADD eth0 cid2");
	CHECK_CONTAINS(log, "bridge DEL eth0 cid2");
	CHECK_CONTAINS(log, "loopback DEL lo cid2");
	CHECK(strstr(log, "bridge DEL") < strstr(log, "loopback DEL"));
	free(log);
	/* the bridge never returned a result: its DEL has no prevResult; lo's has */
	char *in = slurp("stdin-bridge-DEL");
	CHECK(in && !strstr(in, "prevResult"));
	free(in);
	in = slurp("stdin-loopback-DEL");
	CHECK_CONTAINS(in, "prevResult");
	free(in);
	CHECK(access(rec, F_OK) < 0); /* cleaned up */

	/* a failing DEL keeps the record for a later try */
	rm("fail-add");
	CHECK(cni_add(&n, &p, rec, &ips, &err) == 0);
	cni_ips_free(ips);
	touch("fail-del");
	CHECK(cni_del(&n, rec, &err) == -EIO);
	CHECK_STREQ(err, "failed to destroy network for sandbox \"cid2\": plugin type=\"bridge\" "
			 "name=\"podfs-10.231.0.0-16\" failed (delete): cannot delete");
	free(err);
	err = NULL;
	CHECK(access(rec, F_OK) == 0);
	rm("fail-del");
	rm("log");
	CHECK(cni_del(&n, rec, &err) == 0);
	log = slurp("log");
	CHECK_CONTAINS(log, "bridge DEL eth0 cid2");
	free(log);
	CHECK(access(rec, F_OK) < 0);
	free(rec);
	teardown_fakes(&n);
}

TEST(parked_record_retried)
{
	struct cni_net n;
	setup_fakes(&n);
	char *rec = xasprintf("%s/rec.json", tmp), *parked = xasprintf("%s/parked", tmp);
	struct cni_pod p = {.container_id = "cid4", .netns = "/nn", .name = "x", .uid = "u"};
	char **ips = NULL, *err = NULL;
	CHECK(cni_add(&n, &p, rec, &ips, &err) == 0);
	cni_ips_free(ips);
	touch("fail-del");
	CHECK(cni_del(&n, rec, &err) == -EIO);
	free(err);
	err = NULL;
	cni_park(rec, parked);
	CHECK(access(rec, F_OK) < 0);
	CHECK(exists("parked/cid4.json"));
	cni_retry_parked(&n, parked); /* still failing: kept */
	CHECK(exists("parked/cid4.json"));
	rm("fail-del");
	rm("log");
	cni_retry_parked(&n, parked);
	CHECK(!exists("parked/cid4.json"));
	char *log = slurp("log");
	CHECK_CONTAINS(log, "bridge DEL eth0 cid4");
	free(log);
	cni_retry_parked(&n, "/nonexistent/dir"); /* nothing to do */
	free(rec);
	free(parked);
	teardown_fakes(&n);
}

TEST(missing_plugin_and_timeout)
{
	struct cni_net n;
	setup_fakes(&n);
	char *rec = xasprintf("%s/rec.json", tmp);
	struct cni_pod p = {.container_id = "cid3", .netns = "/nn", .name = "x", .uid = "u"};
	char **ips = NULL, *err = NULL;
	char *lo = xasprintf("%s/bin/loopback", tmp);
	unlink(lo);
	CHECK(cni_add(&n, &p, rec, &ips, &err) == -EIO);
	CHECK_CONTAINS(err, "failed to find plugin \"loopback\" in path [");
	free(err);
	err = NULL;
	CHECK(access(rec, F_OK) == 0); /* the DEL of loopback failed as well: kept */
	unlink(rec);
	free(lo);
	teardown_fakes(&n);
	setup_fakes(&n);
	free(rec);
	rec = xasprintf("%s/rec.json", tmp);
	touch("hang");
	n.timeout_ms = 300;
	CHECK(cni_add(&n, &p, rec, &ips, &err) == -EIO);
	CHECK_CONTAINS(err, "failed (add): timed out after");
	free(err);
	free(rec);
	teardown_fakes(&n);
}

int main(void)
{
	RUN(cidr_valid);
	RUN(cidr_invalid);
	RUN(net_names);
	RUN(net_overlaps_loopback_interface);
	RUN(conflist);
	RUN(plugin_stdin);
	RUN(result_ips);
	RUN(error_message);
	RUN(args);
	RUN(add_del_order_and_prev_result);
	RUN(failed_add_runs_del);
	RUN(parked_record_retried);
	RUN(missing_plugin_and_timeout);
	return th_report();
}
