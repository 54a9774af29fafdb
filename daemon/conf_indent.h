/* SPDX-License-Identifier: ISC */
/*
 * conf_indent.h: the one check both configuration readers (smbdirectd's
 * conf.c, smbdirect-gw's gw.c) run before libinih reads a file.
 */
#ifndef SMBDIRECTD_CONF_INDENT_H
#define SMBDIRECTD_CONF_INDENT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * inih reads an indented line after "name = value" as more of that value
 * (its multi-line values), so an indented "interval = 30s" under
 * "textfile = ..." would silently become part of the path. No option of
 * ours takes several lines: refuse indented lines outright, before
 * inih sees the file. Returns the first such line, or 0.
 */
static inline int
conf_indented_line(FILE *f)
{
	char buf[1024];
	int line = 0;
	bool fresh = true;	/* buf starts a line */
	size_t n;

	while (fgets(buf, sizeof(buf), f) != NULL) {
		n = strlen(buf);
		if (fresh) {
			const char *p = buf;

			line++;
			if (*p == ' ' || *p == '\t') {
				while (*p == ' ' || *p == '\t') {
					p++;
				}
				if (*p != '\0' && *p != '\n' && *p != '\r' &&
				    *p != ';' && *p != '#') {
					return line;
				}
			}
		}
		fresh = n > 0 && buf[n - 1] == '\n';
	}
	return 0;
}

#endif
