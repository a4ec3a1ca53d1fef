/* quantity.h: Kubernetes resource quantities ("100m", "1Gi", "129e6") as exact integers.
 *
 * Grammar (k8s.io/apimachinery resource.Quantity):
 *   [+-] digits [ '.' digits ] suffix      (".5" and "5." are accepted too)
 *   suffix: "" | n u m k M G T P E | Ki Mi Gi Ti Pi Ei | (e|E)[+-]digits
 * No whitespace is allowed anywhere. Values are kept as exact integers in
 * milli-units; nothing goes through floating point. */
#ifndef PODFS_QUANTITY_H
#define PODFS_QUANTITY_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Parse S. On success store the value in milli-units (value*1000, fractions
 * finer than 1m rounded UP toward +infinity, as Kubernetes does: "0.1m" -> 1m)
 * in *milli and return 0. On error return -1 and, if ERR is non-NULL, write a
 * short lowercase reason into err (size errlen), e.g.
 * "invalid quantity \"1KB\": unknown suffix \"KB\"; use one of m, k, M, G, T, P, E,
 * Ki, Mi, Gi, Ti, Pi, Ei or an exponent like e6" or "quantity \"1e100\" is too large".
 * Values whose milli value does not fit in a signed 128-bit integer, or whose
 * absolute value exceeds 2^63-1 units (i.e. milli > (2^63-1)*1000), are "too large".
 * Runs in time linear in strlen(s), whatever the exponent. */
int qty_parse(const char *s, __int128 *milli, char *err, size_t errlen);

/* milli-CPU: return 0 and *out = milli if it fits in int64, else -1. */
int qty_to_milli(__int128 milli, int64_t *out);

/* Whole units (bytes for memory), rounded up: ceil(milli/1000); -1 if out of int64. */
int qty_to_units(__int128 milli, int64_t *out);

/* Canonical rendering like Kubernetes' String() for a CPU-style value in
 * milli-units: "100m", "1", "2500m" (whole units without suffix, else m).
 * Writes into buf (size len), returns buf. */
char *qty_format_milli(int64_t milli, char *buf, size_t len);

/* Bytes rendering: largest binary suffix that divides exactly (Ki..Ei), else
 * the largest decimal suffix k..E that divides exactly, else a plain number:
 * 1073741824 -> "1Gi", 200000000 -> "200M", 1000 -> "1k", 1500 -> "1500".
 * When both a binary and a decimal suffix divide, the one with the smaller
 * number wins ("1000Ki" for 1024000, but "1T" rather than "976562500Ki").
 * Writes into buf (size len), returns buf. */
char *qty_format_bytes(int64_t bytes, char *buf, size_t len);

#endif
