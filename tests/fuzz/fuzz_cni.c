/* fuzz_cni.c: libFuzzer target for the parsers of CNI plugin output in
 * backend/cni.c (cni.h), hostile input from a plugin's stdout and stderr.
 * Every input is given to each of them, so a seed is simply a real result:
 *   - a result's pod IPs on eth0 and lo (cni_result_ips);
 *   - a result as the next plugin's prevResult (cni_plugin_stdin);
 *   - an error JSON, stderr or stdout as a failure message
 *     (cni_error_message);
 *   - a conflist (cni_plugin_count, cni_plugin_type).
 * The input is cut at its first NUL, as cni.c reads a plugin's output.
 * Besides the sanitizers' findings, a broken promise of cni.h aborts. See
 * docs/fuzzing.md. */
#include "backend/cni.h"
#include "backend/util.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ips(const char *s, const char *ifname)
{
	char **ips = NULL, *err = NULL;
	if (cni_result_ips(s, ifname, &ips, &err) < 0) {
		if (!err || ips)
			abort();
		free(err);
		return;
	}
	if (err || !ips || !ips[0])
		abort();
	/* canonical addresses, IPv4 first */
	bool seen6 = false;
	for (char **i = ips; *i; i++) {
		unsigned char bin[16];
		char canon[INET6_ADDRSTRLEN];
		if (inet_pton(AF_INET, *i, bin) == 1) {
			if (seen6)
				abort();
			inet_ntop(AF_INET, bin, canon, sizeof(canon));
		} else if (inet_pton(AF_INET6, *i, bin) == 1) {
			seen6 = true;
			inet_ntop(AF_INET6, bin, canon, sizeof(canon));
		} else {
			abort();
		}
		if (strcmp(canon, *i) != 0)
			abort();
	}
	cni_ips_free(ips);
}

static void check_stdin(const char *s)
{
	char *conf = cni_loopback_conflist();
	char *err = NULL;
	char *in = cni_plugin_stdin(conf, 0, s, &err);
	if (!in == !err)
		abort();
	if (in) {
		json_t *o = json_loads(in, 0, NULL);
		if (!json_is_object(o) || !json_object_get(o, "prevResult"))
			abort();
		json_decref(o);
	}
	free(in);
	free(err);
	free(conf);
}

static void check_message(const char *s)
{
	char *m[] = {cni_error_message(s, NULL, 1), cni_error_message(NULL, s, 137),
		     cni_error_message(s, s, 0), cni_error_message("", s, 2)};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (!m[i] || !*m[i])
			abort();
		free(m[i]);
	}
}

static void check_conflist(const char *s)
{
	int n = cni_plugin_count(s);
	if (n < 0)
		abort();
	for (int i = 0; i <= n && i < 16; i++) {
		char *t = cni_plugin_type(s, i);
		if (t && (!*t || strchr(t, '/') || i == n))
			abort();
		free(t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);
	check_ips(s, "eth0");
	check_ips(s, "lo");
	check_stdin(s);
	check_message(s);
	check_conflist(s);
	free(s);
	return 0;
}
