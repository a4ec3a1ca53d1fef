/* test_registry.c: unit tests for backend/registry.c's pieces that need
 * no network: WWW-Authenticate parsing, credentials lookup, endpoints,
 * tag suggestions, and reference normalization as pulls use it. */
#include "backend/image.h"
#include "backend/registry.h"
#include "backend/util.h"
#include "tests/unit/testhelp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

TEST(challenge_bearer)
{
	struct registry_challenge c;
	CHECK(registry_parse_challenge("Bearer realm=\"https://auth.docker.io/token\",service="
				       "\"registry.docker.io\",scope=\"repository:library/"
				       "busybox:pull\"",
				       &c) == 0);
	CHECK_STREQ(c.scheme, "Bearer");
	CHECK_STREQ(c.realm, "https://auth.docker.io/token");
	CHECK_STREQ(c.service, "registry.docker.io");
	CHECK_STREQ(c.scope, "repository:library/busybox:pull");
	registry_challenge_clear(&c);
}

TEST(challenge_order_spaces_escapes)
{
	struct registry_challenge c;
	/* any order, spaces around '=' and ',', case-insensitive names,
	 * a quoted-pair, an unquoted token value */
	CHECK(registry_parse_challenge("bearer  scope=\"a:b:pull,push\" , SERVICE = svc ,"
				       "realm=\"http://x/t\\\"q\"",
				       &c) == 0);
	CHECK_STREQ(c.scheme, "bearer");
	CHECK_STREQ(c.realm, "http://x/t\"q");
	CHECK_STREQ(c.service, "svc");
	CHECK_STREQ(c.scope, "a:b:pull,push");
	registry_challenge_clear(&c);
}

TEST(challenge_basic_and_several)
{
	struct registry_challenge c;
	CHECK(registry_parse_challenge("Basic realm=\"podfs-test-registry\"", &c) == 0);
	CHECK_STREQ(c.scheme, "Basic");
	CHECK_STREQ(c.realm, "podfs-test-registry");
	CHECK(c.service == NULL);
	registry_challenge_clear(&c);
	/* Bearer wins over Basic whatever the order; unknown schemes and
	 * token68 values are skipped */
	CHECK(registry_parse_challenge("Basic realm=\"r\", Negotiate abc==, Bearer "
				       "realm=\"https://t/\",service=\"s\"",
				       &c) == 0);
	CHECK_STREQ(c.scheme, "Bearer");
	CHECK_STREQ(c.realm, "https://t/");
	CHECK_STREQ(c.service, "s");
	registry_challenge_clear(&c);
	CHECK(registry_parse_challenge("Negotiate", &c) == -EINVAL);
	CHECK(registry_parse_challenge("", &c) == -EINVAL);
	CHECK(registry_parse_challenge("=,=\"", &c) == -EINVAL);
	/* an unterminated quote does not run past the end */
	CHECK(registry_parse_challenge("Bearer realm=\"https://x", &c) == 0);
	CHECK_STREQ(c.realm, "https://x");
	registry_challenge_clear(&c);
}

TEST(auth_lookup)
{
	const char *j = "{\"auths\":{"
			"\"https://index.docker.io/v1/\":{\"auth\":\"dXNlcjpwYXNz\"},"
			"\"127.0.0.1:5000\":{\"username\":\"alice\",\"password\":\"s:3\"},"
			"\"http://reg.example:8080/\":{\"auth\":\"bm9jb2xvbg==\"},"
			"\"bad.example\":{\"auth\":\"%%%\"}}}";
	size_t n = strlen(j);
	char *c = registry_auth_lookup(j, n, "docker.io");
	CHECK_STREQ(c, "user:pass");
	free(c);
	c = registry_auth_lookup(j, n, "127.0.0.1:5000");
	CHECK_STREQ(c, "alice:s:3");
	free(c);
	/* base64 without a ':' is not a credential */
	CHECK(registry_auth_lookup(j, n, "reg.example:8080") == NULL);
	CHECK(registry_auth_lookup(j, n, "bad.example") == NULL);
	CHECK(registry_auth_lookup(j, n, "127.0.0.1:5001") == NULL);
	CHECK(registry_auth_lookup("not json", 8, "docker.io") == NULL);
}

TEST(endpoints)
{
	struct registry *r = registry_new();
	char *err = NULL;
	char *u = registry_endpoint_url(r, "docker.io");
	CHECK_STREQ(u, "https://registry-1.docker.io");
	free(u);
	u = registry_endpoint_url(r, "quay.io");
	CHECK_STREQ(u, "https://quay.io");
	free(u);
	u = registry_endpoint_url(r, "localhost:5000");
	CHECK_STREQ(u, "http://localhost:5000");
	free(u);
	u = registry_endpoint_url(r, "127.0.0.1:5000");
	CHECK_STREQ(u, "http://127.0.0.1:5000");
	free(u);
	u = registry_endpoint_url(r, "reg.lan:5000");
	CHECK_STREQ(u, "https://reg.lan:5000");
	free(u);
	CHECK(registry_add_insecure(r, "reg.lan:5000", &err) == 0);
	u = registry_endpoint_url(r, "reg.lan:5000");
	CHECK_STREQ(u, "http://reg.lan:5000");
	free(u);
	CHECK(registry_add_insecure(r, "http://x/", &err) == -EINVAL);
	CHECK_CONTAINS(err, "HOST[:PORT]");
	CHECK(registry_add_mirror(r, "docker.io", &err) == -EINVAL);
	CHECK_CONTAINS(err, "REG=URL");
	CHECK(registry_add_mirror(r, "docker.io=ftp://x", &err) == -EINVAL);
	CHECK(registry_add_mirror(r, "docker.io=http://127.0.0.1:5000/", &err) == 0);
	free(err);
	registry_free(r);
}

TEST(close_tags)
{
	char *tags[] = {"latest", "v1", "stable", NULL};
	char *s = registry_close_tags("lastest", tags);
	CHECK_STREQ(s, "\"latest\"");
	free(s);
	CHECK(registry_close_tags("nightly", tags) == NULL);
	char *none[] = {NULL};
	CHECK(registry_close_tags("latest", none) == NULL);
}

TEST(references)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"busybox", "docker.io/library/busybox:latest"},
	    {"arisu1000/simple-container-app:lastest",
	     "docker.io/arisu1000/simple-container-app:lastest"},
	    {"index.docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
	    {"127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest"},
	    {"localhost/x", "localhost/x:latest"},
	    {"[::1]:5000/x:v1", "[::1]:5000/x:v1"},
	    {"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     "docker.io/library/busybox@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *err = NULL;
		char *n = image_normalize_ref(ok[i].in, &err);
		CHECK_STREQ(n, ok[i].out);
		free(n);
		free(err);
	}
	static const char *const bad[] = {
	    "",	      "Busybox", "busybox:", "a//b", "busybox@sha256:12", "host:port:x/y",
	    "x:-tag", " busybox"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *err = NULL;
		char *n = image_normalize_ref(bad[i], &err);
		CHECK(n == NULL);
		CHECK_CONTAINS(err, "invalid image name");
		free(n);
		free(err);
	}
}

TEST(challenge_token_at_end)
{
	/* found by fuzz_registry: a token ending the header was scanned past
	 * its NUL (ASan: heap-buffer-overflow) */
	struct registry_challenge c;
	char *h = xstrdup("Basic");
	CHECK(registry_parse_challenge(h, &c) == 0);
	CHECK_STREQ(c.scheme, "Basic");
	CHECK(c.realm == NULL);
	registry_challenge_clear(&c);
	free(h);
	h = xstrdup("Bearer realm=\"https://a/token\",service=registry.example");
	CHECK(registry_parse_challenge(h, &c) == 0);
	CHECK_STREQ(c.service, "registry.example");
	registry_challenge_clear(&c);
	free(h);
}

TEST(token_tags_error_replies)
{
	char *tok = NULL;
	int64_t ttl = 0;
	const char *r = "{\"token\":\"\",\"access_token\":\"abc\",\"expires_in\":999999}";
	CHECK(registry_parse_token(r, strlen(r), &tok, &ttl) == 0);
	CHECK_STREQ(tok, "abc");
	CHECK(ttl == 86400);
	free(tok);
	r = "{\"token\":\"a b\"}";
	CHECK(registry_parse_token(r, strlen(r), &tok, &ttl) == -EINVAL);
	CHECK(tok == NULL);
	CHECK(registry_parse_token(NULL, 0, &tok, &ttl) == -EINVAL);

	struct strv tags = {0};
	r = "{\"name\":\"a\",\"tags\":[\"v1\",5,null,\"latest\"]}";
	registry_parse_tags(r, strlen(r), &tags);
	CHECK(tags.n == 2);
	CHECK_STREQ(tags.v[1], "latest");
	strv_free(&tags);

	char code[8];
	r = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"a\\nb\"}]}";
	char *m = registry_error_message(r, strlen(r), code, sizeof(code));
	CHECK_STREQ(m, "a b (NAME_UNKNOWN)");
	CHECK_STREQ(code, "NAME_UN"); /* cut to fit */
	free(m);
	m = registry_error_message("404 page not found", 18, NULL, 0);
	CHECK_STREQ(m, "");
	free(m);
}

int main(void)
{
	RUN(challenge_bearer);
	RUN(challenge_order_spaces_escapes);
	RUN(challenge_basic_and_several);
	RUN(challenge_token_at_end);
	RUN(token_tags_error_replies);
	RUN(auth_lookup);
	RUN(endpoints);
	RUN(close_tags);
	RUN(references);
	return th_report();
}
