#!/usr/bin/env bash
# sample_rss.sh PIDFILE STOPFILE OUT: poll the RssAnon (private resident
# memory, kB) of the backend whose pid psql wrote to PIDFILE every 10 ms
# until STOPFILE appears or the backend ends; write the peak to OUT.
pid=$(tr -dc 0-9 <"$1")
peak=0
while [[ ! -e $2 && -r /proc/$pid/status ]]; do
    kb=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    ((${kb:-0} > peak)) && peak=$kb
    sleep 0.01
done
echo "$peak" >"$3.tmp" && mv "$3.tmp" "$3"
