/* sha256.c: SHA-256 contexts over openssl's EVP, and the checks of
 * "sha256:<hex>" digests the image store, unpacker and references share. */
#include "backend/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sha_die(void)
{
	fprintf(stderr, "podfs: sha256 (openssl) failed\n");
	abort();
}

void sha256_init(struct sha256 *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		sha_die();
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
		sha_die();
}

void sha256_final(struct sha256 *h, char out[SHA256_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
		sha_die();
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[SHA256_DIGEST_LEN] = '\0';
}

void sha256_free(struct sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void sha256_buf(const void *p, size_t n, char out[SHA256_DIGEST_LEN + 1])
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, p, n);
	sha256_final(&h, out);
}

bool sha256_is_hex64(const char *s)
{
	size_t i;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[i] == '\0';
}

bool sha256_digest_ok(const char *d)
{
	return d && strncmp(d, "sha256:", 7) == 0 && sha256_is_hex64(d + 7);
}
