/*
 * console-events.c: the events pane: the latest log lines, newest at the
 * bottom, kept in a ring of CONSOLE_EVENTS lines.
 */
#include "bdfarm.h"

#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "console-pane.h"
#include "server.h"
#include "xmalloc.h"

/* Keep a line for the pane, dropping the oldest once the ring is full. */
void
console_events_add(struct console *c, enum log_level level, const char *text)
{
	struct console_line	*l = &c->events[c->nevents % CONSOLE_EVENTS];

	free(l->text);
	l->text = xstrdup(text);
	l->level = level;
	l->when = clock_wall_ms();
	c->nevents++;
	console_dirty(c);
}

/* Release the ring's lines. */
void
console_events_free(struct console *c)
{
	size_t	i;

	for (i = 0; i < CONSOLE_EVENTS; i++) {
		free(c->events[i].text);
		c->events[i].text = NULL;
	}
	c->nevents = 0;
}

/* Draw the title and as many of the latest lines as fit below it. */
void
console_events_draw(struct console *c, int y, int height)
{
	const struct console_line	*l;
	struct tm			 tm;
	time_t				 t;
	char				 stamp[16], *line;
	unsigned			 n, first, i;
	attr_t				 attr;

	if (height <= 0)
		return;
	console_draw_title(c, y, COLS, _(" EVENTS"), 0);
	n = (unsigned)(height - 1);
	if (n > c->nevents)
		n = c->nevents;
	if (n > CONSOLE_EVENTS)
		n = CONSOLE_EVENTS;
	first = c->nevents - n;
	for (i = 0; i < (unsigned)(height - 1); i++) {
		if (i >= n) {
			console_draw_fill(c, y + 1 + (int)i, 0, COLS,
			    c->attrs[CONSOLE_C_NORMAL]);
			continue;
		}
		l = &c->events[(first + i) % CONSOLE_EVENTS];
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
