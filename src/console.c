/*
 * console.c: the server's terminal console.
 */
#include "console.h"

#include "bdfarm.h"
#include "server.h"
#include "xmalloc.h"

/* Start the console on the terminal. */
int
console_start(struct server *s, char **cause)
{
	xasprintf(cause, _("the console is not available; running headless"));
	return -1;
}

/* Leave the terminal as it was. */
void
console_stop(struct server *s)
{
}

/* Give the terminal back before an exec. */
void
console_suspend(struct server *s)
{
}

/* Take the terminal again after a failed exec. */
void
console_resume(struct server *s)
{
}
