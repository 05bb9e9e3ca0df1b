/*
 * console-header.c: the console's two header lines: where the server
 * listens, who works for it, and how far the whole queue has come.
 */
#include "bdfarm.h"

#include <stdio.h>
#include <stdlib.h>

#include "console-pane.h"
#include "server.h"
#include "xmalloc.h"

/* Draw the header on lines y and y + 1 at now. */
void
console_header_draw(struct console *c, int y, farm_time now)
{
	struct server	*s = c->server;
	struct console_host_row *rows;
	size_t		 total, done, out, busy = 0, waiting, n, i;
	int		 clients = 0, connected = 0, percent;
	double		 rate;
	char		*line, eta[32], per[32];

	rows = c->hosts;
	n = c->nhosts;
	for (i = 0; i < n; i++) {
		if (rows[i].host->connections > 0)
			connected++;
		if (rows[i].host->connections > 0 || rows[i].out > 0)
			clients++;
		busy += console_clients_busy(&rows[i], &waiting);
	}
	total = farm_frames_total(&s->farm, &done, &out);

	if (COLS < 80)
		xasprintf(&line, _(" %s  clients %d  busy %zu"),
		    s->listen_desc, clients, busy);
	else
		xasprintf(&line, _(" bdfarm %s  on %s   clients %d (%d "
		    "connected)   renderers busy %zu"), PACKAGE_VERSION,
		    s->listen_desc, clients, connected, busy);
	console_draw_text(c, y, 0, COLS, c->attrs[CONSOLE_C_TITLE], line);
	free(line);

	rate = eta_rate_per_minute(&s->rate, now);
	if (rate < 0)
		snprintf(per, sizeof per, "-");
	else
		snprintf(per, sizeof per, _("%.1f/min"), rate);
	eta_duration_text(eta_queue_remaining(&s->farm, rate), eta,
	    sizeof eta);
	percent = total == 0 ? 0 : (int)(done * 100 / total);
	if (COLS < 80)
		xasprintf(&line, _(" %zu/%zu (%d%%)  %s  ETA %s%s"), done,
		    total, percent, per, eta, s->farm.stopping ?
		    _("  STOPPING") : "");
	else
		xasprintf(&line, _(" frames %zu/%zu (%d%%)   rate %s   queue "
		    "ETA %s%s"), done, total, percent, per, eta,
		    s->farm.stopping ? _("   STOPPING CLIENTS") : "");
	console_draw_text(c, y + 1, 0, COLS, s->farm.stopping ?
	    c->attrs[CONSOLE_C_BAD] : c->attrs[CONSOLE_C_NORMAL], line);
	free(line);
}
