#!/bin/sh
# replay-cc.sh DMALINK - `dmalink replay --cc` end to end: a shipped trace
# (200 requests) replayed in a SEV-like and a TDX-like confidential guest,
# with the IOMMU and without.  From the JSON: the side not accepted into
# the TVM bounced at least every byte of every request it mapped, the
# accepted side bounced none, both verified every request with no fault;
# behind an IOMMU the two-step API refused every request of the first
# side (-EPERM), without one iova fell back to dma_map_phys and bounced.
# Bad option combinations exit 2 with a message.  Prints TAP.
set -u
dmalink=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
trace=$root/data/traces/mqsim/tpcc-small.trace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }

# check.py JSON N IOMMU: the rules above; prints what is wrong
cat > "$tmp/check.py" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
n, iommu = int(sys.argv[2]), sys.argv[3] == "true"
bad = []
if doc["iommu"] != iommu:
    bad.append("iommu %s" % doc["iommu"])
sides = {s["name"]: s for s in doc["sides"]}
if [sides["shared"]["accepted"], sides["private"]["accepted"]] != [False, True]:
    bad.append("accepted flags")
for side in ("shared", "private"):
    strats = sides[side]["strategies"]
    if [s["name"] for s in strats] != ["page", "sg", "iova"]:
        bad.append("%s: strategies %s" % (side, [s["name"] for s in strats]))
    for s in strats:
        what = "%s %s" % (side, s["name"])
        refused = side == "shared" and s["name"] == "iova" and iommu
        if s["faults"] or s["mismatches"]:
            bad.append("%s: faults or mismatches" % what)
        if refused:
            if s["refused"] != n or s["requests"]:
                bad.append("%s: refused %d of %d" % (what, s["refused"], n))
            continue
        if s["requests"] != n or s["verified"] != n or s["refused"]:
            bad.append("%s: %d requests, %d verified" % (what, s["requests"], s["verified"]))
        if side == "shared" and s["bounced_bytes"] < s["bytes"]:
            bad.append("%s: bounced %d of %d bytes" % (what, s["bounced_bytes"], s["bytes"]))
        if side == "private" and s["bounced_bytes"]:
            bad.append("%s: bounced %d bytes" % (what, s["bounced_bytes"]))
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF

# cc_ok FLAVOUR IOMMU ARGS...: exit 0 and the JSON obeys check.py
cc_ok() {
	fl=$1 iommu=$2; shift 2
	name="--cc $fl $*"
	if "$dmalink" replay --json --cc "$fl" --limit 200 "$@" "$trace" \
		> "$tmp/out.json" 2> "$tmp/err"; then
		if python3 "$tmp/check.py" "$tmp/out.json" 200 "$iommu" > "$tmp/why"; then
			ok "$name: shared side bounced every byte, private none, all verified"
		else
			not_ok "$name: $(cat "$tmp/why")"
		fi
	else
		not_ok "$name: exit $?"; sed 's/^/# /' "$tmp/err" | head -5
	fi
}

cc_ok tdx true
cc_ok tdx false --no-iommu
cc_ok sev true --layout 4k-random
cc_ok sev false --no-iommu

# the table: both sides per strategy, and the ratio's reading
"$dmalink" replay --cc tdx --limit 20 "$trace" > "$tmp/table" 2>&1
if [ "$(grep -cE '^(page|sg|iova) +(shared|private) +' "$tmp/table")" -eq 6 ] &&
   grep -q "shared's ns / private's ns" "$tmp/table" &&
   grep -qE '^page: shared [0-9]+ ns, private [0-9]+ ns per request: [0-9.]+x' "$tmp/table"; then
	ok "table: six rows, the ratio stated"
else
	not_ok "table"; sed 's/^/# /' "$tmp/table"
fi

# bad_opts NAME MESSAGE ARGS...: exit 2 and MESSAGE on stderr
bad_opts() {
	name=$1 msg=$2; shift 2
	"$dmalink" replay "$@" "$trace" > /dev/null 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && grep -q -- "$msg" "$tmp/err"; then
		ok "refused: $name"
	else
		not_ok "refused: $name (exit $rc)"; sed 's/^/# /' "$tmp/err"
	fi
}
bad_opts "unknown flavour" "unknown --cc flavour 'snp'" --cc snp
bad_opts "--cc with --bounce" "--cc takes no" --cc tdx --bounce
bad_opts "--cc with --target p2p" "exclude each other" --cc sev --target p2p

echo "1..$n"
[ $fail -eq 0 ]
