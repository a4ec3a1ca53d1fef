/* sha256.h: SHA-256 (openssl) as the image store, the layer unpacker and
 * image references use it, and digests as OCI writes them:
 * "sha256:<64 lowercase hex>". OpenSSL failing is not recoverable: the
 * process aborts. */
#ifndef PODFS_SHA256_H
#define PODFS_SHA256_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

#define SHA256_DIGEST_LEN 71 /* "sha256:" + 64 hex */

struct sha256 {
	EVP_MD_CTX *ctx;
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* Finish as "sha256:<hex>" and free the context. */
void sha256_final(struct sha256 *h, char out[SHA256_DIGEST_LEN + 1]);
void sha256_free(struct sha256 *h);
/* The digest of N bytes at P, as sha256_final writes it. */
void sha256_buf(const void *p, size_t n, char out[SHA256_DIGEST_LEN + 1]);
/* Is S exactly 64 lowercase hex digits? */
bool sha256_is_hex64(const char *s);
/* Is D "sha256:" and 64 lowercase hex digits? */
bool sha256_digest_ok(const char *d);

#endif
