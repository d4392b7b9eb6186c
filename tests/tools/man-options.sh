#!/bin/sh
# man-options.sh DMALINK SRCDIR - docs/man/dmalink.1 cannot drift from the
# command: for each subcommand the long options its --help names are
# exactly those its .SS section of the man page names, and the page lists
# every subcommand of `dmalink --help`.  `dmalink --version` prints the
# release of dmalink/version.h, as the page's header does.  Prints TAP.
set -u
dmalink=$1
page=$2/docs/man/dmalink.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }

longopts() { grep -o -- '--[a-z][a-z0-9-]*' | grep -vx -- '--help' | sort -u; }

cmds=$("$dmalink" --help | awk '/^commands:/ { on = 1; next } on && NF == 0 { exit } on { print $1 }')
[ -n "$cmds" ] || not_ok "no commands in dmalink --help"
for c in $cmds; do
	"$dmalink" "$c" --help 2>&1 | longopts > "$tmp/help"
	sed 's/\\-/-/g' "$page" |
		awk -v c="$c" '/^\.S[SH] / { on = ($1 == ".SS" && $2 == c) } on' |
		longopts > "$tmp/man"
	if grep -q "^\.SS $c\( \|$\)" "$page" && cmp -s "$tmp/help" "$tmp/man"; then
		ok "dmalink.1 $c: the $(wc -l < "$tmp/help") long options of --help"
	else
		not_ok "dmalink.1 $c differs from --help (< help, > man)"
		diff "$tmp/help" "$tmp/man" | sed 's/^/# /'
	fi
done

v=$("$dmalink" --version)
if [ "$v" = "$("$dmalink" -V)" ] && grep -q "^\.TH DMALINK 1 \"\" \"$v\"" "$page" &&
   echo "$v" | grep -qx 'dmalink [0-9]*\.[0-9]*\.[0-9]*'; then
	ok "--version and -V print '$v', the page's release"
else
	not_ok "--version '$v' against the page"
fi
echo "1..$n"
