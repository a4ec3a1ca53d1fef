/* test_yamltree.c: unit tests for backend/yamltree.c: scalar resolution as
 * Kubernetes' YAML 1.1 decoder does it, positions, anchors and aliases, and
 * every limit that protects the pipeline from hostile manifests (each
 * rejected with a clear message, quickly). */
#include "backend/yamltree.h"
#include "tests/unit/testhelp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The diagnostics of the last failed load, formatted "LINE:COL: MSG". */
static char *errtext;

static struct yt_doc *load_n(const char *buf, size_t len)
{
	struct diag_list errs = {0};
	struct yt_doc *doc = NULL;
	free(errtext);
	errtext = NULL;
	int r = yt_load(buf, len, &doc, &errs);
	if (r < 0) {
		errtext = diag_format_all(&errs, NULL);
		if (doc || errs.n == 0 || r != -EINVAL)
			th_cur_failed = 1;
	}
	diag_list_free(&errs);
	return doc;
}

static struct yt_doc *load(const char *s)
{
	return load_n(s, strlen(s));
}

/* Load S, which must fail; return the error text ("" if it loaded). */
static const char *fails(const char *s)
{
	struct yt_doc *doc = load(s);
	if (doc) {
		fprintf(stderr, "  loaded, but should have failed: %.60s\n", s);
		yt_free(doc);
		th_cur_failed = 1;
		return "";
	}
	return errtext;
}

/* The scalar "v: TEXT" resolves to. A static node copy, valid until the
 * next call. */
static struct yt_node scal;

static const struct yt_node *scalar(const char *text)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "v: %s\n", text);
	struct yt_doc *doc = load(buf);
	memset(&scal, 0, sizeof(scal));
	scal.kind = YT_SEQ; /* not a scalar until found */
	if (!doc) {
		fprintf(stderr, "  failed to load \"%s\": %s", text, errtext);
		th_cur_failed = 1;
		return &scal;
	}
	const struct yt_node *v = yt_get(doc->root, "v");
	if (v && v->kind == YT_SCALAR) {
		scal = *v;
		scal.str = NULL;
	}
	yt_free(doc);
	return &scal;
}

/* The type of "v: TEXT", or -1 if it did not load as a scalar. */
static int type_of(const char *text)
{
	const struct yt_node *n = scalar(text);
	return n->kind == YT_SCALAR ? (int)n->type : -1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Time limits are for the plain and sanitizer builds; valgrind runs code
 * some 50 times slower. */
static double time_limit(double seconds)
{
	const char *pre = getenv("LD_PRELOAD");
	return pre && strstr(pre, "vgpreload") ? seconds * 50 : seconds;
}

/* A buffer of N copies of UNIT (caller frees). */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *buf = malloc(hl + ul * n + tl + 1);
	char *p = buf;
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl);
	p += tl;
	*p = '\0';
	*len = (size_t)(p - buf);
	return buf;
}

/* ---- scalar resolution ---------------------------------------------------- */

TEST(scalar_booleans_yaml11)
{
	const char *trues[] = {"yes", "Yes", "YES",  "on",   "On",  "ON",
			       "y",   "Y",   "true", "True", "TRUE"};
	const char *falses[] = {"no", "No", "NO",    "off",   "Off",  "OFF",
				"n",  "N",  "false", "False", "FALSE"};
	for (size_t i = 0; i < sizeof(trues) / sizeof(trues[0]); i++) {
		const struct yt_node *n = scalar(trues[i]);
		CHECK(n->type == YT_BOOL && n->bval);
	}
	for (size_t i = 0; i < sizeof(falses) / sizeof(falses[0]); i++) {
		const struct yt_node *n = scalar(falses[i]);
		CHECK(n->type == YT_BOOL && !n->bval);
	}
	/* not booleans */
	CHECK(type_of("yEs") == YT_STR);
	CHECK(type_of("tRUE") == YT_STR);
	CHECK(type_of("\"yes\"") == YT_STR);
	CHECK(type_of("'off'") == YT_STR);
}

TEST(scalar_nulls)
{
	CHECK(type_of("~") == YT_NULL);
	CHECK(type_of("") == YT_NULL);
	CHECK(type_of("null") == YT_NULL);
	CHECK(type_of("Null") == YT_NULL);
	CHECK(type_of("NULL") == YT_NULL);
	CHECK(type_of("nULL") == YT_STR);
	CHECK(type_of("\"\"") == YT_STR);
	CHECK(type_of("'~'") == YT_STR);
	/* a key with no value at all */
	struct yt_doc *doc = load("a:\nb: 1\n");
	CHECK(doc && yt_get(doc->root, "a") && yt_get(doc->root, "a")->type == YT_NULL);
	yt_free(doc);
}

TEST(scalar_integers_decimal_hex_octal)
{
	const struct yt_node *n = scalar("0x1F");
	CHECK(n->type == YT_INT && n->ival == 31 && !n->int_overflow);
	n = scalar("-0x1f");
	CHECK(n->type == YT_INT && n->ival == -31);
	n = scalar("0777");
	CHECK(n->type == YT_INT && n->ival == 0777);
	n = scalar("0o17");
	CHECK(n->type == YT_INT && n->ival == 15);
	n = scalar("0b101");
	CHECK(n->type == YT_INT && n->ival == 5);
	n = scalar("1_000");
	CHECK(n->type == YT_INT && n->ival == 1000);
	n = scalar("+42");
	CHECK(n->type == YT_INT && n->ival == 42);
	n = scalar("0");
	CHECK(n->type == YT_INT && n->ival == 0);
	/* not octal: go-yaml's float 8, which Kubernetes takes as the integer 8 */
	n = scalar("08");
	CHECK(n->type == YT_INT && n->ival == 8);
	n = scalar("0_9_1");
	CHECK(n->type == YT_INT && n->ival == 91);
	n = scalar("-9223372036854775808");
	CHECK(n->type == YT_INT && !n->int_overflow && n->ival == INT64_MIN);
	n = scalar("9223372036854775807");
	CHECK(n->type == YT_INT && !n->int_overflow && n->ival == INT64_MAX);
}

TEST(scalar_integer_overflow_is_flagged)
{
	const struct yt_node *n = scalar("99999999999999999999999");
	CHECK(n->type == YT_INT && n->int_overflow);
	n = scalar("9223372036854775808");
	CHECK(n->type == YT_INT && n->int_overflow);
	n = scalar("-9223372036854775809");
	CHECK(n->type == YT_INT && n->int_overflow);
	n = scalar("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF");
	CHECK(n->type == YT_INT && n->int_overflow);
}

TEST(scalar_floats)
{
	CHECK(type_of("1e3") == YT_FLOAT);
	CHECK(type_of("1E+3") == YT_FLOAT);
	CHECK(type_of("1.5") == YT_FLOAT);
	CHECK(type_of(".5") == YT_FLOAT);
	CHECK(type_of("-.5") == YT_FLOAT);
	CHECK(type_of("5.") == YT_FLOAT);
	CHECK(type_of("1_000.5") == YT_FLOAT);
	CHECK(type_of(".inf") == YT_FLOAT);
	CHECK(type_of("-.Inf") == YT_FLOAT);
	CHECK(type_of("+.INF") == YT_FLOAT);
	CHECK(type_of(".NaN") == YT_FLOAT);
}

TEST(scalar_strings_and_quoted_numbers)
{
	CHECK(type_of("\"123\"") == YT_STR);
	CHECK(type_of("'0x1F'") == YT_STR);
	CHECK(type_of("!!str 123") == YT_STR);
	CHECK(type_of("! 123") == YT_STR);
	CHECK(type_of("_1") == YT_STR);
	CHECK(type_of("1.2.3") == YT_STR);
	CHECK(type_of("0x") == YT_STR);
	CHECK(type_of("0xG") == YT_STR);
	CHECK(type_of("1e") == YT_STR);
	CHECK(type_of("+") == YT_STR);
	CHECK(type_of("-x") == YT_STR);
	CHECK(type_of("100m") == YT_STR);
	CHECK(type_of("2001-12-14") == YT_STR);
	CHECK(type_of("1Gi") == YT_STR);
	struct yt_doc *doc = load("v: \"123\"\n");
	CHECK(doc && !strcmp(yt_get(doc->root, "v")->str, "123"));
	yt_free(doc);
	doc = load("v: 'it''s'\nw: \"tab\\there\"\n");
	CHECK(doc != NULL);
	if (doc) {
		CHECK_STREQ(yt_get(doc->root, "v")->str, "it's");
		CHECK_STREQ(yt_get(doc->root, "w")->str, "tab\there");
	}
	yt_free(doc);
}

TEST(scalar_tags)
{
	const struct yt_node *n = scalar("!!int \"12\"");
	CHECK(n->type == YT_INT && n->ival == 12);
	CHECK(type_of("!!float 1") == YT_FLOAT);
	CHECK(type_of("!!bool yes") == YT_BOOL);
	CHECK(type_of("!!null ~") == YT_NULL);
	CHECK_CONTAINS(fails("v: !!int abc\n"), "1:4: value \"abc\" does not match its tag !!int");
	CHECK_CONTAINS(fails("v: !!bool 1\n"), "does not match its tag !!bool");
	struct yt_doc *doc = load("m: !!map {a: 1}\ns: !!seq [1]\n");
	CHECK(doc != NULL);
	yt_free(doc);
}

TEST(describe_kinds)
{
	struct yt_doc *doc = load("a: x\nb: 1\nc: 1.5\nd: true\ne: ~\nf: {}\ng: []\n");
	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK_STREQ(yt_describe(yt_get(doc->root, "a")), "string");
	CHECK_STREQ(yt_describe(yt_get(doc->root, "b")), "integer");
	CHECK_STREQ(yt_describe(yt_get(doc->root, "c")), "number");
	CHECK_STREQ(yt_describe(yt_get(doc->root, "d")), "boolean");
	CHECK_STREQ(yt_describe(yt_get(doc->root, "e")), "null");
	CHECK_STREQ(yt_describe(yt_get(doc->root, "f")), "mapping");
	CHECK_STREQ(yt_describe(yt_get(doc->root, "g")), "list");
	CHECK_STREQ(yt_describe(NULL), "nothing");
	yt_free(doc);
}

/* ---- structure and positions ---------------------------------------------- */

TEST(line_and_column_of_nodes)
{
	struct yt_doc *doc = load("# comment\n"
				  "spec:\n"
				  "  containers:\n"
				  "  - name: app\n"
				  "    image:   nginx\n"
				  "    args: [a, \"b\"]\n");
	CHECK(doc != NULL);
	if (!doc)
		return;
	const struct yt_node *root = doc->root;
	CHECK(root->kind == YT_MAP && root->line == 2 && root->col == 1);
	CHECK(root->keys[0]->line == 2 && root->keys[0]->col == 1);
	const struct yt_node *ctrs = yt_get(yt_get(root, "spec"), "containers");
	CHECK(ctrs && ctrs->kind == YT_SEQ && ctrs->n == 1);
	const struct yt_node *c0 = ctrs->vals[0];
	CHECK(c0->kind == YT_MAP && c0->line == 4 && c0->col == 5);
	const struct yt_node *img = yt_get(c0, "image");
	CHECK(img && img->line == 5 && img->col == 14);
	const struct yt_node *args = yt_get(c0, "args");
	CHECK(args && args->line == 6 && args->col == 11);
	CHECK(args->n == 2 && args->vals[1]->line == 6 && args->vals[1]->col == 15);
	yt_free(doc);
}

TEST(mapping_lookup)
{
	struct yt_doc *doc = load("{a: 1, b: {c: x}, \"quoted key\": 2, 3: three}");
	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK(yt_get(doc->root, "a")->ival == 1);
	CHECK_STREQ(yt_get(yt_get(doc->root, "b"), "c")->str, "x");
	CHECK(yt_get(doc->root, "quoted key")->ival == 2);
	CHECK_STREQ(yt_get(doc->root, "3")->str, "three");
	CHECK(yt_get(doc->root, "missing") == NULL);
	CHECK(yt_get(yt_get(doc->root, "a"), "a") == NULL); /* not a mapping */
	CHECK(yt_get(NULL, "a") == NULL);
	yt_free(doc);
}

TEST(empty_documents)
{
	struct yt_doc *doc = load("");
	CHECK(doc && doc->root == NULL);
	yt_free(doc);
	doc = load("# only a comment\n");
	CHECK(doc && doc->root == NULL);
	yt_free(doc);
	doc = load("---\n...\n");
	CHECK(doc && doc->root && doc->root->type == YT_NULL);
	yt_free(doc);
	yt_free(NULL);
}

TEST(json_syntax)
{
	struct yt_doc *doc =
	    load("{\"apiVersion\": \"v1\", \"n\": [1, 2.5, true, null, \"\\u00e9\"]}");
	CHECK(doc != NULL);
	if (!doc)
		return;
	const struct yt_node *n = yt_get(doc->root, "n");
	CHECK(n && n->n == 5);
	CHECK(n->vals[0]->type == YT_INT && n->vals[1]->type == YT_FLOAT);
	CHECK(n->vals[2]->type == YT_BOOL && n->vals[3]->type == YT_NULL);
	CHECK_STREQ(n->vals[4]->str, "\xc3\xa9");
	yt_free(doc);
}

TEST(valid_utf8_and_bom_accepted)
{
	struct yt_doc *doc = load("\xef\xbb\xbf"
				  "a: caf\xc3\xa9\n"
				  "b: \xe2\x98\xba \xf0\x9f\x98\x80\n"
				  "c: \xf4\x8f\xbf\xbf\n");
	CHECK(doc != NULL);
	if (doc)
		CHECK_STREQ(yt_get(doc->root, "a")->str, "caf\xc3\xa9");
	yt_free(doc);
}

/* ---- anchors and aliases ---------------------------------------------------- */

TEST(anchors_and_aliases_share_nodes)
{
	struct yt_doc *doc = load("base: &b {cpu: 1, mem: 2}\n"
				  "img: &i nginx\n"
				  "x: *b\n"
				  "y: [*i, *b]\n");
	CHECK(doc != NULL);
	if (!doc)
		return;
	const struct yt_node *b = yt_get(doc->root, "base");
	CHECK(yt_get(doc->root, "x") == b);
	const struct yt_node *y = yt_get(doc->root, "y");
	CHECK(y->n == 2 && y->vals[0] == yt_get(doc->root, "img") && y->vals[1] == b);
	CHECK_STREQ(y->vals[0]->str, "nginx");
	/* aliases do not copy: nodes are built once */
	CHECK(doc->nall == 12);
	yt_free(doc);
}

TEST(anchor_redefinition_latest_wins)
{
	struct yt_doc *doc = load("a: &x 1\nb: *x\nc: &x [2]\nd: *x\n");
	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK(yt_get(doc->root, "b")->ival == 1);
	CHECK(yt_get(doc->root, "d") == yt_get(doc->root, "c"));
	yt_free(doc);
}

TEST(alias_to_undefined_anchor)
{
	CHECK_CONTAINS(fails("a: 1\nb: *nope\n"),
		       "2:4: alias *nope refers to no earlier anchor &nope");
	/* an anchor defined after its alias is not defined yet */
	CHECK_CONTAINS(fails("a: *later\nb: &later 1\n"),
		       "alias *later refers to no earlier anchor");
}

TEST(self_referencing_anchor)
{
	CHECK_CONTAINS(fails("a: &a [1, *a]\n"),
		       "1:11: alias *a refers to a node that contains it (line 1); recursive "
		       "structures are not allowed");
	CHECK_CONTAINS(fails("a: &m {b: {c: *m}}\n"), "refers to a node that contains it");
	/* an older definition does not hide the cycle */
	CHECK_CONTAINS(fails("x: &a 1\ny: &a [*a]\n"), "refers to a node that contains it");
	/* but a redefinition inside the collection is a plain reference */
	struct yt_doc *doc = load("y: &a [&a 1, *a]\n");
	CHECK(doc && yt_get(doc->root, "y")->n == 2);
	yt_free(doc);
}

TEST(merge_keys_rejected)
{
	CHECK_CONTAINS(fails("base: &b {a: 1}\nx:\n  <<: *b\n  c: 2\n"),
		       "3:3: YAML merge keys (<<) are not supported");
	CHECK_CONTAINS(fails("x: {<<: [{a: 1}]}\n"), "merge keys (<<) are not supported");
	/* a quoted "<<" is an ordinary key in YAML, but still refused as ambiguous */
	CHECK_CONTAINS(fails("x: {\"<<\": 1}\n"), "merge keys");
}

TEST(unsupported_tags_rejected)
{
	CHECK_CONTAINS(fails("a: !custom x\n"), "1:4: YAML tag \"!custom\" is not supported here");
	CHECK_CONTAINS(fails("a: !!binary aGVsbG8=\n"), "YAML tag \"!!binary\" is not supported");
	CHECK_CONTAINS(fails("a: !!set {x: ~}\n"), "YAML tag \"!!set\" is not supported");
	CHECK_CONTAINS(fails("a: !!str [1]\n"), "YAML tag \"!!str\" is not supported");
	CHECK_CONTAINS(fails("%TAG !e! tag:example.com,2000:\n---\na: !e!foo x\n"),
		       "YAML tag \"tag:example.com,2000:foo\" is not supported");
}

TEST(mapping_keys_must_be_scalars)
{
	CHECK_CONTAINS(fails("? {a: b}\n: c\n"),
		       "1:3: a mapping key must be a plain string, not a mapping");
	CHECK_CONTAINS(fails("[1, 2]: x\n"), "a mapping key must be a plain string, not a list");
	CHECK_CONTAINS(fails("l: &l [1]\nm: {*l : x}\n"), "not a list");
	/* scalar aliases make fine keys */
	struct yt_doc *doc = load("k: &k name\nm: {*k : v}\n");
	CHECK(doc && yt_get(yt_get(doc->root, "m"), "name") != NULL);
	yt_free(doc);
}

TEST(multiple_documents_rejected)
{
	CHECK_CONTAINS(fails("a: 1\n---\nb: 2\n"),
		       "2:1: more than one YAML document; a manifest holds exactly one Pod");
	CHECK_CONTAINS(fails("--- a\n--- b\n"), "2:1: more than one YAML document");
	struct yt_doc *doc = load("---\na: 1\n...\n");
	CHECK(doc != NULL);
	yt_free(doc);
}

TEST(syntax_errors_have_positions)
{
	CHECK_CONTAINS(fails("a: [1, 2\nb: 3\n"),
		       "YAML syntax error: did not find expected ',' or ']'");
	CHECK_CONTAINS(fails("a: b\n  c: d\n"),
		       "2:4: YAML syntax error: mapping values are not allowed");
	CHECK_CONTAINS(fails("a: 'unterminated\n"),
		       "YAML syntax error: found unexpected end of stream");
	CHECK_CONTAINS(fails("a: \x01\n"), "YAML syntax error: control characters are not allowed");
	CHECK_CONTAINS(fails("a: \"\\q\"\n"), "YAML syntax error: found unknown escape character");
}

TEST(tab_indentation_hint)
{
	const char *e = fails("spec:\n\tcontainers: []\n");
	CHECK_CONTAINS(e, "2:1: YAML syntax error: found character that cannot start any token");
	CHECK_CONTAINS(e, "YAML does not allow tabs for indentation, use spaces");
	/* a tab inside a value is fine */
	struct yt_doc *doc = load("a: \"x\ty\"\nb: x\ty\n");
	CHECK(doc != NULL);
	yt_free(doc);
}

/* ---- limits ----------------------------------------------------------------- */

TEST(input_over_1mib_rejected)
{
	size_t len = YT_MAX_BYTES + 1;
	char *buf = malloc(len);
	memset(buf, '#', len);
	double t0 = now();
	struct yt_doc *doc = load_n(buf, len);
	CHECK(doc == NULL);
	CHECK_CONTAINS(errtext, "manifest is 1048577 bytes; the limit is 1048576 bytes (1 MiB)");
	/* exactly 1 MiB is allowed (a comment, here) */
	doc = load_n(buf, YT_MAX_BYTES);
	CHECK(doc && doc->root == NULL);
	yt_free(doc);
	CHECK(now() - t0 < time_limit(0.5));
	free(buf);
}

TEST(nul_byte_rejected_with_position)
{
	static const char buf[] = "apiVersion: v1\nkind: Pod\0\nspec: {}\n";
	struct yt_doc *doc = load_n(buf, sizeof(buf) - 1);
	CHECK(doc == NULL);
	CHECK_CONTAINS(errtext, "2:10: manifest contains a NUL byte");
	/* lines counted as libyaml counts them: CR LF and a lone CR */
	static const char crlf[] = "a: 1\r\nb: 2\rc: x\0";
	doc = load_n(crlf, sizeof(crlf) - 1);
	CHECK(doc == NULL);
	CHECK_CONTAINS(errtext, "3:5: manifest contains a NUL byte");
	/* and an escaped NUL in a quoted string */
	CHECK_CONTAINS(fails("a: \"x\\0y\"\n"), "1:4: string contains a NUL character");
}

TEST(invalid_utf8_rejected)
{
	/* overlong encoding of '/' */
	CHECK_CONTAINS(fails("a: b\nc: \xc0\xaf\n"),
		       "2:4: manifest is not valid UTF-8 (byte 0xc0)");
	/* overlong 3- and 4-byte forms */
	CHECK_CONTAINS(fails("a: \xe0\x80\xaf\n"), "1:4: manifest is not valid UTF-8 (byte 0xe0)");
	CHECK_CONTAINS(fails("a: \xf0\x80\x80\xaf\n"), "not valid UTF-8 (byte 0xf0)");
	/* UTF-16 surrogate U+D800 */
	CHECK_CONTAINS(fails("a: x\xed\xa0\x80\n"), "1:5: manifest is not valid UTF-8 (byte 0xed)");
	/* beyond U+10FFFF */
	CHECK_CONTAINS(fails("a: \xf4\x90\x80\x80\n"), "not valid UTF-8 (byte 0xf4)");
	/* truncated at the end of the input, and in the middle */
	CHECK_CONTAINS(fails("a: \xe2\x82"), "1:4: manifest is not valid UTF-8 (byte 0xe2)");
	CHECK_CONTAINS(fails("a: \xe2\x82x\n"), "1:4: manifest is not valid UTF-8");
	/* a lone continuation byte, bytes never valid, UTF-16 */
	CHECK_CONTAINS(fails("a: \x80\n"), "(byte 0x80)");
	CHECK_CONTAINS(fails("a: \xff\n"), "(byte 0xff)");
	CHECK_CONTAINS(fails("\xff\xfe"
			     "a"),
		       "1:1: manifest is not valid UTF-8");
	/* columns count characters, not bytes */
	CHECK_CONTAINS(fails("\xc3\xa9\xc3\xa9: \xc0\n"), "1:5: manifest is not valid UTF-8");
}

TEST(depth_64_accepted_65_rejected)
{
	char buf[256];
	memset(buf, '[', 64);
	memset(buf + 64, ']', 64);
	buf[128] = '\0';
	struct yt_doc *doc = load(buf);
	CHECK(doc != NULL);
	yt_free(doc);
	memset(buf, '[', 65);
	memset(buf + 65, ']', 65);
	buf[130] = '\0';
	CHECK_CONTAINS(fails(buf), "1:65: manifest nests deeper than 64 levels");
	/* mappings count too, in block style as well */
	char blk[8192] = "";
	size_t o = 0;
	for (int i = 0; i < 65; i++)
		o += (size_t)snprintf(blk + o, sizeof(blk) - o, "%*sk%d:\n", 2 * i, "", i);
	CHECK_CONTAINS(fails(blk), "manifest nests deeper than 64 levels");
}

TEST(deep_nesting_of_1mib_is_fast)
{
	size_t len;
	char *buf = repeat("", "[", YT_MAX_BYTES - 1, "", &len);
	double t0 = now();
	CHECK_CONTAINS(fails(buf), "manifest nests deeper than 64 levels");
	free(buf);
	buf = repeat("", "{a: ", YT_MAX_BYTES / 4 - 1, "", &len);
	CHECK_CONTAINS(fails(buf), "manifest nests deeper than 64 levels");
	CHECK(now() - t0 < time_limit(0.5));
	free(buf);
}

TEST(billion_laughs_rejected_quickly)
{
	char buf[4096];
	size_t o = (size_t)snprintf(buf, sizeof(buf),
				    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (char c = 'b'; c <= 'j'; c++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%c: &%c [", c, c);
		for (int i = 0; i < 9; i++)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s*%c", i ? ", " : "",
					      c - 1);
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "]\n");
	}
	double t0 = now();
	const char *e = fails(buf);
	double dt = now() - t0;
	CHECK_CONTAINS(e, "aliases expand to more than 1000000 nodes (an alias bomb?)");
	CHECK(dt < time_limit(0.1));
}

TEST(long_string_alias_bomb_rejected)
{
	/* few nodes, but 100000 copies of a 1000-byte string */
	size_t len;
	char *big = malloc(1001);
	memset(big, 'x', 1000);
	big[1000] = '\0';
	char head[1100];
	snprintf(head, sizeof(head), "s: &s %s\nl: [", big);
	char *buf = repeat(head, "*s,", 100000, "]\n", &len);
	double t0 = now();
	CHECK_CONTAINS(fails(buf), "aliases expand to more than 16777216 bytes of text");
	CHECK(now() - t0 < time_limit(0.5));
	free(buf);
	/* the same through keys */
	snprintf(head, sizeof(head), "s: &s {%s: 1}\nl: [", big);
	buf = repeat(head, "*s,", 100000, "]\n", &len);
	CHECK_CONTAINS(fails(buf), "aliases expand to more than 16777216 bytes of text");
	free(buf);
	free(big);
}

TEST(many_anchors_and_aliases_linear)
{
	/* 20000 anchors, then 20000 aliases to the first: quadratic with a
	 * list search */
	char *buf = malloc(1 << 20);
	size_t o = (size_t)sprintf(buf, "a:\n");
	for (int i = 0; i < 20000; i++)
		o += (size_t)sprintf(buf + o, "- &anchor%d x\n", i);
	o += (size_t)sprintf(buf + o, "b:\n");
	for (int i = 0; i < 20000; i++)
		o += (size_t)sprintf(buf + o, "- *anchor%d\n", i % 7);
	double t0 = now();
	struct yt_doc *doc = load_n(buf, o);
	CHECK(now() - t0 < time_limit(0.5));
	CHECK(doc != NULL);
	if (doc) {
		const struct yt_node *b = yt_get(doc->root, "b");
		CHECK(b && b->n == 20000 &&
		      b->vals[19999] == yt_get(doc->root, "a")->vals[19999 % 7]);
	}
	yt_free(doc);
	free(buf);
}

TEST(node_count_limit)
{
	size_t len;
	char *buf = repeat("[", "1,", YT_MAX_NODES, "]", &len);
	double t0 = now();
	CHECK_CONTAINS(fails(buf), "manifest has more than 200000 YAML nodes");
	/* some 0.2 s normally, more with sanitizers on a busy machine */
	CHECK(now() - t0 < time_limit(3.0));
	free(buf);
}

TEST(errors_do_not_leak_partial_trees)
{
	/* failures at every stage: each must free what was built (valgrind
	 * and LeakSanitizer check) */
	const char *bad[] = {
	    "a: {b: [1, 2, {c: *x}]}\n",	 "a: &a {b: [1, 2]}\nc: [*a, *a, &a [*a]]\n",
	    "a: [1, 2, 3]\nb: {c: d}\n---\n",	 "a: {b: [1, !custom 2]}\n",
	    "a: {b: [1, {c: d}: e]}\n",		 "a: {b: [1, 2\n",
	    "a: [&x 1, &y {q: *x}, {<<: *y}]\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fails(bad[i]);
}

int main(void)
{
	RUN(scalar_booleans_yaml11);
	RUN(scalar_nulls);
	RUN(scalar_integers_decimal_hex_octal);
	RUN(scalar_integer_overflow_is_flagged);
	RUN(scalar_floats);
	RUN(scalar_strings_and_quoted_numbers);
	RUN(scalar_tags);
	RUN(describe_kinds);
	RUN(line_and_column_of_nodes);
	RUN(mapping_lookup);
	RUN(empty_documents);
	RUN(json_syntax);
	RUN(valid_utf8_and_bom_accepted);
	RUN(anchors_and_aliases_share_nodes);
	RUN(anchor_redefinition_latest_wins);
	RUN(alias_to_undefined_anchor);
	RUN(self_referencing_anchor);
	RUN(merge_keys_rejected);
	RUN(unsupported_tags_rejected);
	RUN(mapping_keys_must_be_scalars);
	RUN(multiple_documents_rejected);
	RUN(syntax_errors_have_positions);
	RUN(tab_indentation_hint);
	RUN(input_over_1mib_rejected);
	RUN(nul_byte_rejected_with_position);
	RUN(invalid_utf8_rejected);
	RUN(depth_64_accepted_65_rejected);
	RUN(deep_nesting_of_1mib_is_fast);
	RUN(billion_laughs_rejected_quickly);
	RUN(long_string_alias_bomb_rejected);
	RUN(many_anchors_and_aliases_linear);
	RUN(node_count_limit);
	RUN(errors_do_not_leak_partial_trees);
	free(errtext);
	return th_report();
}
