/* fuzz_registry.c: libFuzzer target for the registry client's parsers of
 * registry replies (backend/registry.c), all hostile input. Every input is
 * given to each of them, so a seed is simply a real reply:
 *   - a WWW-Authenticate header value (registry_parse_challenge);
 *   - a token service's JSON reply (registry_parse_token);
 *   - a tags/list JSON reply (registry_parse_tags), then the tag
 *     suggestion over its tags (registry_close_tags);
 *   - the Docker-style credentials file (registry_auth_lookup) for a few
 *     hosts;
 *   - an error body (registry_error_message).
 * Besides the sanitizers' findings, a broken promise of registry.h aborts.
 * See docs/fuzzing.md. */
#include "backend/registry.h"
#include "backend/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_challenge(const char *s)
{
	struct registry_challenge ch;
	if (registry_parse_challenge(s, &ch) < 0) {
		if (ch.scheme || ch.realm || ch.service || ch.scope)
			abort();
		return;
	}
	if (!ch.scheme || (strcasecmp(ch.scheme, "Bearer") != 0 && strcmp(ch.scheme, "Basic") != 0))
		abort();
	registry_challenge_clear(&ch);
}

static void check_token(const char *data, size_t size)
{
	char *tok = NULL;
	int64_t ttl = -1;
	if (registry_parse_token(data, size, &tok, &ttl) < 0) {
		if (tok)
			abort();
		return;
	}
	size_t n = tok ? strlen(tok) : 0;
	if (n == 0 || n >= 16384 || ttl < 1 || ttl > 86400)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)tok[i] <= ' ' || (unsigned char)tok[i] >= 0x7f)
			abort();
	free(tok);
}

static void check_tags(const char *data, size_t size)
{
	struct strv tags = {0};
	registry_parse_tags(data, size, &tags);
	if (tags.n > 100000)
		abort();
	for (size_t i = 0; i < tags.n; i++)
		if (strlen(tags.v[i]) > 128)
			abort();
	char **v = xcalloc(tags.n + 1, sizeof(char *));
	if (tags.n)
		memcpy(v, tags.v, tags.n * sizeof(char *));
	const char *wants[] = {"latest", "v1", tags.n ? tags.v[0] : "x"};
	for (size_t w = 0; w < sizeof(wants) / sizeof(wants[0]); w++) {
		char *close = registry_close_tags(wants[w], v);
		if (close && (close[0] != '"' || close[strlen(close) - 1] != '"'))
			abort();
		free(close);
	}
	free(v);
	strv_free(&tags);
}

static void check_auth(const char *data, size_t size)
{
	static const char *const hosts[] = {"docker.io", "127.0.0.1:5000", "localhost:5000",
					    "registry.example.com", "index.docker.io"};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char *c = registry_auth_lookup(data, size, hosts[i]);
		if (c && !strchr(c, ':'))
			abort();
		free(c);
	}
}

static void check_error(const char *data, size_t size)
{
	char code[64];
	memset(code, 'x', sizeof(code));
	char *m = registry_error_message(data, size, code, sizeof(code));
	if (!m || strlen(m) > 300 || !memchr(code, '\0', sizeof(code)))
		abort();
	for (const char *c = m; *c; c++)
		if ((unsigned char)*c < ' ')
			abort();
	free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a header value as on_header keeps it: NUL-terminated, < 8 KiB */
	if (size < 8192) {
		char *s = xstrndup((const char *)data, size);
		check_challenge(s);
		free(s);
	}
	check_token((const char *)data, size);
	check_tags((const char *)data, size);
	check_auth((const char *)data, size);
	check_error((const char *)data, size);
	return 0;
}
