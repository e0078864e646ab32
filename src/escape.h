/* escape.h -- strings made safe for the output formats.
 *
 * A path is whatever bytes the file system holds: not always UTF-8, and it
 * may hold a tab, a newline or a quote.  JSON output must stay valid UTF-8
 * JSON whatever the path, and a TSV field must stay one field; these write
 * a string so that it does (main.c decides where). */
#ifndef RESNET_ESCAPE_H
#define RESNET_ESCAPE_H

#include <stdio.h>

/* 1 if s is well-formed UTF-8 (no overlong forms, no surrogates, nothing
 * past U+10FFFF), else 0. */
int esc_utf8_valid(const char *s);

/* s as a JSON string, quotes included: '"', '\' and the control characters
 * escaped as RFC 8259 requires, and each ill-formed UTF-8 subsequence
 * replaced by one U+FFFD (the "maximal subpart" rule of Unicode's chapter
 * 3, which Python's and Rust's lossy decoders follow). */
void esc_json(FILE *out, const char *s);

/* s as one field of PostgreSQL's text format: tab, newline, carriage return
 * and backslash written as \t, \n, \r and \\; every other byte as it is. */
void esc_tsv(FILE *out, const char *s);

/* The bytes of s in base64 (RFC 4648's alphabet, padded with '='). */
void esc_base64(FILE *out, const char *s);

#endif
