/*
 * console-events.c: the events pane: the latest log lines, newest at the
 * bottom, from the server's ring of them.
 */
#include "bdfarm.h"

#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "console-pane.h"
#include "server.h"
#include "xmalloc.h"

/* Draw the title and as many of the latest lines as fit below it. */
void
console_events_draw(struct console *c, int y, int height)
{
	const struct server		*s = c->server;
	const struct server_line	*l;
	struct tm			 tm;
	time_t				 t;
	char				 stamp[16], *line;
	unsigned			 n, first, i;
	attr_t				 attr;

	if (height <= 0)
		return;
	console_draw_title(c, y, COLS, _(" EVENTS"), 0);
	n = (unsigned)(height - 1);
	if (n > s->nlines)
		n = s->nlines;
	if (n > SERVER_LINES)
		n = SERVER_LINES;
	first = s->nlines - n;
	for (i = 0; i < (unsigned)(height - 1); i++) {
		if (i >= n) {
			console_draw_fill(c, y + 1 + (int)i, 0, COLS,
			    c->attrs[CONSOLE_C_NORMAL]);
			continue;
		}
		l = &s->lines[(first + i) % SERVER_LINES];
		t = (time_t)(l->when / 1000);
		localtime_r(&t, &tm);
		strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
		xasprintf(&line, "%s %s", stamp, l->text);
		attr = l->level == LOG_WARN ? c->attrs[CONSOLE_C_BAD] :
		    c->attrs[CONSOLE_C_NORMAL];
		console_draw_text(c, y + 1 + (int)i, 0, COLS, attr, line);
		free(line);
	}
}
