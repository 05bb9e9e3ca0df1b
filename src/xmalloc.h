/*
 * xmalloc.h: allocation that never returns NULL; running out of memory is
 * fatal.
 */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

#include "bdfarm.h"

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) BDFARM_PRINTF(2, 3);
int	 xvasprintf(char **, const char *, va_list) BDFARM_PRINTF(2, 0);
void	 xfreestrings(char **);

#endif
