/* imageref.h: image references, parsed and normalized as Docker and
 * Kubernetes do (image_normalize_ref, image.h, is made of these):
 * [domain/]path[:tag][@sha256:digest], the domain docker.io by default
 * (index.docker.io is docker.io), docker.io's one-component paths under
 * library/, the tag latest if there is neither tag nor digest. */
#ifndef PODFS_IMAGEREF_H
#define PODFS_IMAGEREF_H

#include <stdbool.h>

struct ref_parts {
	char *domain, *path, *tag, *digest; /* tag, digest may be NULL */
};

void imageref_free(struct ref_parts *p);
/* Parse REF into *OUT (normalized as above): 0, or -EINVAL with a message
 * (InvalidImageName material) in *err if ERR is not NULL. */
int imageref_parse(const char *ref, struct ref_parts *out, char **err);
/* "domain/path[:tag][@digest]"; WITH_DIGEST false leaves the digest out. */
char *imageref_format(const struct ref_parts *p, bool with_digest);
/* The key refs.json files an image under: "name:tag", or "name@digest" for
 * a reference with a digest only. */
char *imageref_key(const struct ref_parts *p);
/* Do A and B name the same repository (domain and path)? */
bool imageref_same_repo(const struct ref_parts *a, const struct ref_parts *b);

#endif
