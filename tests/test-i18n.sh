#!/bin/sh
# The French translation: the catalogue built from po/fr.po is complete
# enough that --help and usage errors read in French.
set -u
top=${BDFARM_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
gmo="$top/po/fr.gmo"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$gmo" ]; then
	echo "FAIL: $gmo was not built"
	exit 1
fi
mkdir -p "$tmp/fr/LC_MESSAGES"
cp "$gmo" "$tmp/fr/LC_MESSAGES/bdfarm.mo"

# LANG=fr_FR.UTF-8 needs that locale; without it, LANGUAGE=fr still
# selects French messages over C.UTF-8.
if locale -a 2>/dev/null | grep -qi '^fr_FR\.utf-\?8$'; then
	set -- env LANG=fr_FR.UTF-8 LC_ALL= LANGUAGE=
else
	echo "note: no fr_FR.UTF-8 locale; using LANGUAGE=fr"
	set -- env LANG=C.UTF-8 LC_ALL= LANGUAGE=fr
fi

expect() {
	what=$1 pattern=$2 text=$3
	if printf '%s\n' "$text" | grep -q -- "$pattern"; then
		echo "ok: $what"
	else
		echo "FAIL: $what: no '$pattern' in:"
		printf '%s\n' "$text" | sed 's/^/    /'
		fail=1
	fi
}

help=$(BDFARM_LOCALEDIR=$tmp "$@" "$BDFARM" --help 2>&1)
expect "--help in French" "Options du serveur" "$help"
expect "--help usage line in French" "^Utilisation" "$help"
english=$(BDFARM_LOCALEDIR=$tmp env LANG=C LC_ALL=C LANGUAGE= "$BDFARM" --help 2>&1)
expect "--help in English under C" "Server options" "$english"

err=$(BDFARM_LOCALEDIR=$tmp "$@" "$BDFARM" /a /b 2>&1)
expect "usage error in French" "obligatoire" "$err"

# Against the messages the sources hold now, not only those fr.po knows.
pot="$top/po/bdfarm.pot"
untranslated=$(msgmerge -q -o - "$top/po/fr.po" "$pot" |
    LC_ALL=C msgfmt --statistics -o /dev/null - 2>&1)
expect "every message translated" "^[0-9]* translated messages\.$" "$untranslated"

exit $fail
